import { randomUUID } from 'node:crypto';

import { Logger, UnauthorizedException, UnprocessableEntityException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';

import { type Principal, RpcCallError, RpcNotSentError, RpcTimeoutError } from '@relay/auth';
import type { ReleaseStockResult, ReserveStockDto, ReserveStockResult } from '@relay/contracts';
import { type Database, testDatabaseBackends } from '@relay/database';

import type { OrdersConfig } from '../config/orders.config';
import { ordersMigrations } from '../database/migrations';
import type { InventoryClient } from '../inventory-client/inventory.client';
import { IdempotencyKeysRepository } from './idempotency-keys.repository';
import type { Order } from './order';
import { OrdersRepository } from './orders.repository';
import { OrdersService } from './orders.service';
import { ABANDONED_AFTER_TIMEOUT_MS, PendingOrdersRecovery } from './pending-orders.recovery';
import { ReleaseSweeper } from './release-sweeper';

type ReserveBehaviour = (request: ReserveStockDto) => Promise<ReserveStockResult>;

class FakeInventoryClient implements Pick<InventoryClient, 'reserve' | 'release'> {
  readonly reserved: ReserveStockDto[] = [];
  /** Acknowledged releases. */
  readonly released: string[] = [];
  readonly releaseCalls: Array<{ orderId: string; asService: boolean }> = [];
  /** While true, every release fails as if inventory were down. */
  isDown = false;
  /** While set, every release waits for it (inventory slow to answer). */
  gate?: Promise<void>;

  constructor(private readonly behaviour: ReserveBehaviour) {}

  reserve(request: ReserveStockDto): Promise<ReserveStockResult> {
    this.reserved.push(request);
    return this.behaviour(request);
  }

  release(orderId: string, { asService = false }: { asService?: boolean } = {}): Promise<ReleaseStockResult> {
    this.releaseCalls.push({ orderId, asService });
    if (this.isDown) return Promise.reject(new RpcCallError(503, undefined, 'no responders'));
    const answer = async (): Promise<ReleaseStockResult> => {
      await this.gate;
      this.released.push(orderId);
      return { orderId, released: true };
    };
    return answer();
  }
}

const serviceCredentials = { AUTH_CLIENT_ID: 'orders', AUTH_CLIENT_SECRET: 's3cret' };

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const confirm: ReserveBehaviour = (request) => Promise.resolve({ orderId: request.orderId, reserved: true });

function principal(subject: string, roles: Principal['roles'] = ['customer']): Principal {
  return {
    subject,
    roles,
    scopes: [],
    clientId: 'relay-web',
    tokenId: subject,
    audience: ['orders'],
    issuedAt: 0,
    expiresAt: 0,
  };
}

/** Every order of the caller, newest first. */
async function listOf(service: OrdersService, caller: Principal): Promise<Order[]> {
  return (await service.pageForCaller(caller, {}))?.orders ?? [];
}

const alice = principal('alice');
const bob = principal('bob');
const apples = [{ sku: 'sku-apple', quantity: 2 }];

// on PostgreSQL the same-key race is a real race between connections; PGlite runs one query at a time
describe.each(testDatabaseBackends(ordersMigrations))(`${OrdersService.name} on $name`, ({ open }) => {
  let database: Database;
  let cleanup: () => Promise<void>;
  let repository: OrdersRepository;

  beforeAll(async () => {
    ({ db: database, cleanup } = await open());
    repository = new OrdersRepository(database);
  });

  afterAll(async () => {
    await cleanup();
  });

  beforeEach(async () => {
    await database.query('DELETE FROM idempotency_keys');
    await database.query('DELETE FROM orders');
  });

  const sweepers: ReleaseSweeper[] = [];

  afterEach(async () => {
    await Promise.all(sweepers.splice(0).map((sweeper) => sweeper.onApplicationShutdown()));
  });

  function createService(
    behaviour: ReserveBehaviour,
    env: Partial<OrdersConfig> = {},
  ): { service: OrdersService; inventory: FakeInventoryClient; sweeper: ReleaseSweeper } {
    const inventory = new FakeInventoryClient(behaviour);
    const config = new ConfigService<OrdersConfig, true>({ ORDERS_RPC_TIMEOUT_MS: 500, ...env });
    const client = inventory as unknown as InventoryClient;
    const recovery = new PendingOrdersRecovery(repository, config);
    const sweeper = new ReleaseSweeper(repository, client, recovery, config);
    sweepers.push(sweeper);
    const service = new OrdersService(
      database,
      repository,
      new IdempotencyKeysRepository(),
      client,
      sweeper,
      config,
    );
    return { service, inventory, sweeper };
  }

  // a page ends inside a run of orders of one instant: the next one starts right after it, by id
  it('pages orders of the same created_at one by one, each exactly once, newest first', async () => {
    const { service } = createService(confirm);
    const ids: string[] = [];
    for (let index = 0; index < 4; index += 1) ids.push((await service.create(alice, apples)).id);
    // the newest order keeps its own instant; the other three share one, down to the microsecond
    await database.query(
      `UPDATE orders SET created_at = '2026-01-01T00:00:00.123456Z' WHERE id = ANY($1::uuid[])`,
      [ids.slice(0, 3)],
    );

    const seen: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 6; page += 1) {
      const next = await service.pageForCaller(alice, {
        limit: 1,
        ...(after === undefined ? {} : { after }),
      });
      seen.push(...(next?.orders.map((order) => order.id) ?? []));
      if (next?.hasMore !== true) break;
      after = seen.at(-1);
    }

    expect(seen).toEqual([ids[3], ...ids.slice(0, 3).sort()]);
  });

  // CONTRACT: GET /orders answers the caller's orders; a client that names no limit gets every one
  it('lists every order of the caller without a limit, past a page of 1000', async () => {
    const { service } = createService(confirm);
    await database.query(
      `INSERT INTO orders (id, user_id, status, items, created_at)
       SELECT gen_random_uuid(), 'alice', 'confirmed', '[]', now() - n * interval '1 second'
         FROM generate_series(1, 1001) AS n`,
    );
    const ofBob = await service.create(bob, apples);

    const every = await service.pageForCaller(alice, {});

    expect(every?.orders).toHaveLength(1001);
    expect(every?.hasMore).toBe(false);
    expect(every?.orders.map((order) => order.id)).not.toContain(ofBob.id);
  });

  it("answers no page after an order that is not the caller's", async () => {
    const { service } = createService(confirm);
    const ofBob = await service.create(bob, apples);

    expect(await service.pageForCaller(alice, { limit: 10, after: ofBob.id })).toBeUndefined();
    expect(await service.pageForCaller(alice, { limit: 10, after: 'not-a-uuid' })).toBeUndefined();
  });

  const isReleasePending = async (id: string): Promise<boolean | undefined> =>
    (await repository.find(id))?.isReleasePending;

  /** An order stored `ageMs` ago and still pending: what a request cut off (a crash) leaves behind. */
  async function leftPending(ageMs: number): Promise<string> {
    const left = await repository.insertPending(database, {
      id: randomUUID(),
      userId: 'alice',
      items: apples,
    });
    await database.query(
      'UPDATE orders SET created_at = created_at - make_interval(secs => $2) WHERE id = $1',
      [left.id, ageMs / 1000],
    );
    return left.id;
  }

  /** Runs `during` while the database refuses to move any order to `status` (a real error from it). */
  async function whileSettlingTo<T>(status: string, during: () => Promise<T>): Promise<T> {
    await database.query(
      `ALTER TABLE orders ADD CONSTRAINT test_refuses_settle CHECK (status <> '${status}') NOT VALID`,
    );
    try {
      return await during();
    } finally {
      await database.query('ALTER TABLE orders DROP CONSTRAINT test_refuses_settle');
    }
  }

  it('stores the order pending before asking inventory, then confirms it', async () => {
    let statusDuringReserve: string | undefined;
    const { service, inventory } = createService(async (request) => {
      statusDuringReserve = (await repository.find(request.orderId))?.status;
      return { orderId: request.orderId, reserved: true };
    });

    const order = await service.create(alice, apples);

    expect(statusDuringReserve).toBe('pending');
    expect(order).toMatchObject({ userId: 'alice', status: 'confirmed', items: apples, reason: null });
    expect(inventory.reserved).toEqual([{ orderId: order.id, items: apples }]);
    expect((await repository.find(order.id))?.status).toBe('confirmed');
  });

  it('rejects the order when inventory answers 409', async () => {
    const { service, inventory } = createService(() =>
      Promise.reject(new RpcCallError(409, 'insufficient_stock')),
    );

    const order = await service.create(alice, apples);

    expect(order).toMatchObject({ status: 'rejected', reason: 'insufficient_stock' });
    expect(inventory.released).toEqual([]);
  });

  it('fails the order and releases it when inventory times out', async () => {
    const { service, inventory } = createService(() =>
      Promise.reject(new RpcTimeoutError('inventory.reserve', 500)),
    );

    const order = await service.create(alice, apples);

    expect(order).toMatchObject({ status: 'failed', reason: 'inventory_timeout', isReleasePending: true });
    await eventually(async () => (await isReleasePending(order.id)) === false);
    expect(inventory.releaseCalls).toEqual([{ orderId: order.id, asService: false }]);
    expect((await repository.find(order.id))?.status).toBe('failed');
  });

  // only this request could confirm the order: its stock is freed whether or not storing the failure works
  it('releases a timed-out order for the caller even when the database refuses to store the failure', async () => {
    const { service, inventory } = createService(() =>
      Promise.reject(new RpcTimeoutError('inventory.reserve', 500)),
    );

    await expect(whileSettlingTo('failed', () => service.create(alice, apples))).rejects.toThrow(
      'test_refuses_settle',
    );

    const [stuck] = await listOf(service, alice);
    expect(stuck).toMatchObject({ status: 'pending' });
    await eventually(() => inventory.released.includes(stuck.id));
    expect(inventory.releaseCalls).toEqual([{ orderId: stuck.id, asService: false }]);
  });

  it('fails the order and releases it when inventory answers 503 (it may have taken stock first)', async () => {
    const { service, inventory } = createService(() =>
      Promise.reject(new RpcCallError(503, undefined, 'Database unavailable')),
    );

    const order = await service.create(alice, apples);

    expect(order).toMatchObject({ status: 'failed', reason: 'inventory_unavailable' });
    await eventually(async () => (await isReleasePending(order.id)) === false);
    expect(inventory.released).toEqual([order.id]);
  });

  // an outage of inventory would otherwise queue a release per order, and the sweep would send them all
  it('fails the order and releases nothing when the reservation reached no inventory', async () => {
    const { service, inventory } = createService(() =>
      Promise.reject(new RpcNotSentError('NATS request on inventory.reserve: no service answers it')),
    );

    const order = await service.create(alice, apples);

    expect(order).toMatchObject({ status: 'failed', reason: 'inventory_unavailable' });
    expect(await isReleasePending(order.id)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(inventory.releaseCalls).toEqual([]);
  });

  it('keeps the release pending while inventory is down, then the sweep releases it with its own token', async () => {
    const { service, inventory, sweeper } = createService(
      () => Promise.reject(new RpcTimeoutError('inventory.reserve', 500)),
      serviceCredentials,
    );
    inventory.isDown = true;
    const order = await service.create(alice, apples);
    await eventually(() => inventory.releaseCalls.length >= 1);

    expect(await sweeper.sweep()).toBe(0);
    expect(await isReleasePending(order.id)).toBe(true);

    inventory.isDown = false;
    expect(await sweeper.sweep()).toBe(1);

    expect(await isReleasePending(order.id)).toBe(false);
    expect(inventory.releaseCalls.at(-1)).toEqual({ orderId: order.id, asService: true });
    expect(await sweeper.sweep()).toBe(0);
  });

  it('waits at shutdown for the pass in flight, which ends after the release it is making', async () => {
    const { inventory, sweeper } = createService(confirm, serviceCredentials);
    const left = [await leftPending(0), await leftPending(0)];
    for (const id of left) await repository.settle(id, 'failed', 'interrupted', true);
    let answer = (): void => undefined;
    inventory.gate = new Promise((resolve) => (answer = resolve));
    const pass = sweeper.sweep();
    await eventually(() => inventory.releaseCalls.length === 1);

    let hasStopped = false;
    const stopping = sweeper.onApplicationShutdown().then(() => (hasStopped = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(hasStopped).toBe(false);
    answer();
    await stopping;

    expect(await pass).toBe(1);
    expect(inventory.releaseCalls).toHaveLength(1);
    expect(await isReleasePending(inventory.releaseCalls[0].orderId)).toBe(false);
  });

  // a pass that waited out every release's timeout while inventory is down would hold back the next
  // pass's failing of abandoned orders by minutes; one unanswered release ends the pass
  it('stops a pass at the first release inventory does not answer, and releases the rest in a later one', async () => {
    const { inventory, sweeper } = createService(confirm, serviceCredentials);
    const left = [await leftPending(0), await leftPending(0), await leftPending(0)];
    for (const id of left) await repository.settle(id, 'failed', 'interrupted', true);
    inventory.isDown = true;

    expect(await sweeper.sweep()).toBe(0);
    expect(inventory.releaseCalls).toHaveLength(1);

    inventory.isDown = false;
    expect(await sweeper.sweep()).toBe(3);
    expect(inventory.released.sort()).toEqual([...left].sort());
  });

  // an outage of minutes must not write a warning every 5 s
  it('warns once while inventory stays down, and says once when releases go through again', async () => {
    const { inventory, sweeper } = createService(confirm, serviceCredentials);
    const left = await leftPending(0);
    await repository.settle(left, 'failed', 'interrupted', true);
    inventory.isDown = true;
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    let warnings: string[];
    let lines: string[];

    try {
      for (let pass = 0; pass < 3; pass += 1) expect(await sweeper.sweep()).toBe(0);
      inventory.isDown = false;
      expect(await sweeper.sweep()).toBe(1);
      expect(await sweeper.sweep()).toBe(0);
    } finally {
      warnings = warn.mock.calls.map(([message]) => String(message));
      lines = log.mock.calls.map(([message]) => String(message));
      warn.mockRestore();
      log.mockRestore();
    }

    expect(warnings.filter((message) => message.includes('may still hold stock'))).toEqual([
      '1 failed order(s) may still hold stock in inventory (RpcCallError: no responders); retrying every 5 s',
    ]);
    expect(lines.filter((message) => message.includes('again'))).toEqual([
      'Releasing the stock of failed orders again (1 released in this pass)',
    ]);
  });

  it('does not sweep without client credentials (there is no token to send)', async () => {
    const { service, inventory, sweeper } = createService(() =>
      Promise.reject(new RpcTimeoutError('inventory.reserve', 500)),
    );
    inventory.isDown = true;
    const order = await service.create(alice, apples);
    await eventually(() => inventory.releaseCalls.length >= 1);
    const callsBefore = inventory.releaseCalls.length;

    inventory.isDown = false;
    expect(await sweeper.sweep()).toBe(0);

    expect(inventory.releaseCalls.length).toBe(callsBefore);
    expect(await isReleasePending(order.id)).toBe(true);
  });

  it('needs no release for a rejected or refused order', async () => {
    const { service } = createService(() => Promise.reject(new RpcCallError(409, 'insufficient_stock')));

    const order = await service.create(alice, apples);

    expect(order.isReleasePending).toBe(false);
  });

  it('passes on a 401 from inventory and leaves the order failed', async () => {
    const { service } = createService(() =>
      Promise.reject(new UnauthorizedException('Access token revoked')),
    );

    await expect(service.create(alice, apples)).rejects.toBeInstanceOf(UnauthorizedException);

    const [order] = await listOf(service, alice);
    expect(order).toMatchObject({ status: 'failed', reason: 'inventory_unauthorized' });
  });

  it('reserves once when two requests race with the same idempotency key', async () => {
    const { service, inventory } = createService(async (request) => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return { orderId: request.orderId, reserved: true };
    });

    const [first, second] = await Promise.all([
      service.create(alice, apples, 'key-1'),
      service.create(alice, apples, 'key-1'),
    ]);

    expect(inventory.reserved).toHaveLength(1);
    expect(second.id).toBe(first.id);
    expect(first.status).toBe('confirmed');
    expect(second.status).toBe('confirmed');
  });

  it('has a repeat wait for the first request with ever fewer reads, not one every 50 ms', async () => {
    const { service } = createService(
      async (request) => {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        return { orderId: request.orderId, reserved: true };
      },
      { ORDERS_RPC_TIMEOUT_MS: 3000 },
    );
    const first = service.create(alice, apples, 'key-slow');
    await eventually(async () => (await listOf(service, alice)).length === 1);
    const reads = jest.spyOn(repository, 'find');

    try {
      const repeat = await service.create(alice, apples, 'key-slow');

      expect(repeat.status).toBe('confirmed');
      expect(repeat.id).toBe((await first).id);
      // 50, 100, 200, 400, 500 ms…: a handful of reads over the 1.5 s, where a fixed 50 ms made about 30
      expect(reads.mock.calls.length).toBeLessThanOrEqual(10);
    } finally {
      reads.mockRestore();
    }
  });

  it('answers a repeat of a rejected order with the same rejection', async () => {
    const { service, inventory } = createService(() =>
      Promise.reject(new RpcCallError(409, 'insufficient_stock')),
    );
    const first = await service.create(alice, apples, 'key-2');

    const repeat = await service.create(alice, apples, 'key-2');

    expect(repeat).toMatchObject({ id: first.id, status: 'rejected', reason: 'insufficient_stock' });
    expect(inventory.reserved).toHaveLength(1);
  });

  it('keeps idempotency keys per user', async () => {
    const { service, inventory } = createService(confirm);

    const ofAlice = await service.create(alice, apples, 'shared-key');
    const ofBob = await service.create(bob, apples, 'shared-key');

    expect(ofBob.id).not.toBe(ofAlice.id);
    expect(ofBob.userId).toBe('bob');
    expect(inventory.reserved).toHaveLength(2);
  });

  it('refuses a reused idempotency key with a different body', async () => {
    const { service } = createService(confirm);
    await service.create(alice, apples, 'key-3');

    const attempt = service.create(alice, [{ sku: 'sku-pear', quantity: 1 }], 'key-3');

    await expect(attempt).rejects.toBeInstanceOf(UnprocessableEntityException);
  });

  it("finds the caller's own orders and hides other users' orders unless admin", async () => {
    const { service } = createService(confirm);
    const order = await service.create(alice, apples);

    expect(await service.findForCaller(alice, order.id)).toMatchObject({ id: order.id });
    expect(await service.findForCaller(bob, order.id)).toBeUndefined();
    expect(await service.findForCaller(principal('root', ['admin']), order.id)).toMatchObject({
      id: order.id,
    });
    expect(await service.findForCaller(alice, 'not-a-uuid')).toBeUndefined();
  });

  it("lists only the caller's orders, newest first", async () => {
    const { service } = createService(confirm);
    const older = await service.create(alice, apples);
    const newer = await service.create(alice, apples);
    await service.create(bob, apples);

    const orders = await listOf(service, alice);

    expect(orders.map((order) => order.id)).toEqual([newer.id, older.id]);
  });

  it('records the inventory acknowledgement once, for the order owner only', async () => {
    const { service } = createService(confirm);
    const order = await service.create(alice, apples);

    expect(await service.acknowledgeReservation(order.id, 'bob')).toBe(false);
    expect(await service.acknowledgeReservation(order.id, 'alice')).toBe(true);

    expect((await repository.find(order.id))?.inventoryAcknowledgedAt).toBeInstanceOf(Date);
  });

  // ORDERS_RPC_TIMEOUT_MS is 500 here: abandoned past 500 + ABANDONED_AFTER_TIMEOUT_MS
  const abandonedAfterMs = 500 + ABANDONED_AFTER_TIMEOUT_MS;

  it('fails orders left pending by a crash at start-up and releases them with its own token', async () => {
    const left = await leftPending(abandonedAfterMs + 60_000);
    const { inventory, sweeper } = createService(confirm, serviceCredentials);

    sweeper.onApplicationBootstrap();
    await sweeper.sweep();

    expect(await repository.find(left)).toMatchObject({ status: 'failed', reason: 'interrupted' });
    expect(await isReleasePending(left)).toBe(false);
    expect(inventory.releaseCalls).toEqual([{ orderId: left, asService: true }]);
  });

  // another instance may be asking inventory for it right now (a scale-out, a rolling deploy)
  it('leaves an order pending for less than the RPC timeout plus the margin to its request', async () => {
    const young = await leftPending(abandonedAfterMs - 2000);
    const { inventory, sweeper } = createService(confirm, serviceCredentials);

    sweeper.onApplicationBootstrap();
    await sweeper.sweep();

    expect(await repository.find(young)).toMatchObject({ status: 'pending', isReleasePending: false });
    expect(inventory.releaseCalls).toEqual([]);
  });

  // inventory reserved, then storing the answer failed (a lost database connection, say): the request
  // fails and nobody settles the order; a later pass does, without a restart
  it('fails and releases an order its request could not settle, in a later pass', async () => {
    const { service, inventory, sweeper } = createService(confirm, serviceCredentials);
    await expect(whileSettlingTo('confirmed', () => service.create(alice, apples))).rejects.toThrow(
      'test_refuses_settle',
    );
    const [stuck] = await listOf(service, alice);
    expect(stuck).toMatchObject({ status: 'pending' });
    expect(await sweeper.sweep()).toBe(0);

    await database.query(
      'UPDATE orders SET created_at = created_at - make_interval(secs => $2) WHERE id = $1',
      [stuck.id, (abandonedAfterMs + 1000) / 1000],
    );
    expect(await sweeper.sweep()).toBe(1);

    expect(await repository.find(stuck.id)).toMatchObject({
      status: 'failed',
      reason: 'interrupted',
      isReleasePending: false,
    });
    expect(inventory.releaseCalls).toEqual([{ orderId: stuck.id, asService: true }]);
  });

  it('warns once while abandoned orders cannot be failed, and says once when they can again', async () => {
    const left = await leftPending(abandonedAfterMs + 60_000);
    const { sweeper } = createService(confirm);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    let warnings: string[];
    let lines: string[];

    try {
      await whileSettlingTo('failed', async () => {
        for (let pass = 0; pass < 3; pass += 1) await sweeper.sweep();
      });
      await sweeper.sweep();
      await sweeper.sweep();
    } finally {
      warnings = warn.mock.calls.map(([message]) => String(message));
      lines = log.mock.calls.map(([message]) => String(message));
      warn.mockRestore();
      log.mockRestore();
    }

    expect(
      warnings.filter((message) => message.startsWith('Could not look for abandoned orders')),
    ).toHaveLength(1);
    expect(lines.filter((message) => message.includes('again'))).toEqual([
      'Looking for abandoned orders again',
    ]);
    expect(await repository.find(left)).toMatchObject({ status: 'failed' });
  });

  it('warns once at start-up when it has no client credentials, and keeps interrupted orders pending release', async () => {
    const left = await leftPending(abandonedAfterMs + 60_000);
    const { inventory, sweeper } = createService(confirm);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    let messages: string[];

    try {
      sweeper.onApplicationBootstrap();
      await sweeper.sweep();
    } finally {
      messages = warn.mock.calls.map(([message]) => String(message));
      warn.mockRestore();
    }

    const credentialWarnings = messages.filter((message) => message.includes('AUTH_CLIENT_ID'));
    expect(credentialWarnings).toHaveLength(1);
    expect(await repository.find(left)).toMatchObject({ status: 'failed', isReleasePending: true });
    expect(inventory.releaseCalls).toEqual([]);
  });
});
