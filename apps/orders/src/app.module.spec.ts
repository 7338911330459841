import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';

import { natsMicroserviceOptions } from '@relay/auth';
import { InventorySubjects } from '@relay/contracts';
import { DATABASE, type Database } from '@relay/database';
import { createTestIssuer, type JwksServer, NatsTestClient, type TestIssuer } from '@relay/testing';

const NATS_URL = process.env['RELAY_TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';
const RPC_TIMEOUT_MS = 1000;

type AppModuleClass = new () => object;

// ConfigModule.forRoot validates process.env when an app module is loaded and writes its defaults
// back into process.env; restoring it keeps inventory's defaults (audience, port) out of orders.
async function loadWithEnv(
  env: Record<string, string>,
  load: () => Promise<AppModuleClass>,
): Promise<AppModuleClass> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return await load();
  } finally {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  }
}

async function start(module: AppModuleClass, serviceName: string): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(module, new FastifyAdapter(), {
    logger: ['error'],
  });
  app.connectMicroservice(natsMicroserviceOptions(NATS_URL, serviceName), { inheritAppConfig: true });
  await app.init();
  await app.startAllMicroservices();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

// The orders → inventory flow with both real apps in this process, a real NATS and real token
// verification against a served JWKS.
describe('POST /orders through a real inventory', () => {
  let issuer: TestIssuer;
  let jwks: JwksServer;
  let orders: NestFastifyApplication;
  let inventory: NestFastifyApplication | undefined;
  let dataDir: string;
  let alice: string;
  let bob: string;
  let admin: string;

  beforeAll(async () => {
    issuer = await createTestIssuer({ issuer: 'http://issuer.relay.test' });
    jwks = await issuer.serveJwks();
    dataDir = mkdtempSync(join(tmpdir(), 'relay-orders-'));
    delete process.env['DATABASE_URL'];
    const common = {
      AUTH_ISSUER: issuer.issuer,
      AUTH_JWKS_URI: jwks.url,
      DATA_DIR: dataDir,
      NATS_URL,
      LOG_LEVEL: 'error',
    };
    const InventoryAppModule = await loadWithEnv(common, async () => {
      // eslint-disable-next-line @nx/enforce-module-boundaries -- the flow test runs the real inventory app in-process
      return (await import('../../inventory/src/app.module')).AppModule;
    });
    const OrdersAppModule = await loadWithEnv(
      { ...common, ORDERS_RPC_TIMEOUT_MS: String(RPC_TIMEOUT_MS) },
      async () => {
        return (await import('./app.module')).AppModule;
      },
    );
    inventory = await start(InventoryAppModule, 'inventory');
    orders = await start(OrdersAppModule, 'orders');
    alice = issuer.mintAccessToken({ claims: { sub: 'alice', roles: ['customer'] } });
    bob = issuer.mintAccessToken({ claims: { sub: 'bob', roles: ['customer'] } });
    admin = issuer.mintAccessToken({ claims: { sub: 'root', roles: ['admin'] } });
  }, 90_000);

  afterAll(async () => {
    await orders?.close();
    await inventory?.close();
    await jwks?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);

  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

  function postOrder(token: string, payload: unknown, headers: Record<string, string> = {}) {
    return orders.inject({
      method: 'POST',
      url: '/orders',
      headers: { ...bearer(token), ...headers },
      payload: payload as object,
    });
  }

  async function stockOf(sku: string): Promise<number> {
    if (inventory === undefined) throw new Error('inventory is stopped');
    const response = await inventory.inject({
      method: 'GET',
      url: `/inventory/${sku}`,
      headers: bearer(alice),
    });
    return (response.json() as { available: number }).available;
  }

  async function newSku(available: number): Promise<string> {
    if (inventory === undefined) throw new Error('inventory is stopped');
    const sku = `sku-${randomUUID().slice(0, 8)}`;
    const response = await inventory.inject({
      method: 'PUT',
      url: `/inventory/${sku}`,
      headers: bearer(admin),
      payload: { available },
    });
    expect(response.statusCode).toBe(200);
    return sku;
  }

  it('answers 201 with the confirmed order and reserves its stock', async () => {
    const sku = await newSku(10);

    const response = await postOrder(alice, { items: [{ sku, quantity: 3 }] });

    expect(response.statusCode).toBe(201);
    const body = response.json() as Record<string, unknown>;
    expect(body).toEqual({
      id: expect.any(String),
      userId: 'alice',
      status: 'confirmed',
      items: [{ sku, quantity: 3 }],
      createdAt: expect.any(String),
    });
    expect(await stockOf(sku)).toBe(7);
  });

  it('records the inventory.reserved event on the order', async () => {
    const sku = await newSku(10);
    const response = await postOrder(alice, { items: [{ sku, quantity: 1 }] });
    const { id } = response.json() as { id: string };
    const database = orders.get<Database>(DATABASE);

    let acknowledged: unknown = null;
    for (let attempt = 0; attempt < 40 && acknowledged === null; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const [row] = await database.query<{ at: unknown }>(
        'SELECT inventory_acknowledged_at AS at FROM orders WHERE id = $1',
        [id],
      );
      acknowledged = row.at;
    }

    expect(acknowledged).not.toBeNull();
  });

  it('answers 409 rejected when stock is short and takes nothing', async () => {
    const plenty = await newSku(10);
    const scarce = await newSku(1);

    const response = await postOrder(alice, {
      items: [
        { sku: plenty, quantity: 1 },
        { sku: scarce, quantity: 2 },
      ],
    });

    expect(response.statusCode).toBe(409);
    expect(response.json()).toEqual({ status: 'rejected', reason: 'insufficient_stock' });
    expect(await stockOf(plenty)).toBe(10);
  });

  it('returns the first answer for a repeated Idempotency-Key and reserves once', async () => {
    const sku = await newSku(10);
    const headers = { 'idempotency-key': randomUUID() };

    const [first, second] = await Promise.all([
      postOrder(alice, { items: [{ sku, quantity: 2 }] }, headers),
      postOrder(alice, { items: [{ sku, quantity: 2 }] }, headers),
    ]);
    const third = await postOrder(alice, { items: [{ sku, quantity: 2 }] }, headers);

    expect([first.statusCode, second.statusCode, third.statusCode]).toEqual([201, 201, 201]);
    const ids = [first, second, third].map((response) => (response.json() as { id: string }).id);
    expect(new Set(ids).size).toBe(1);
    expect(await stockOf(sku)).toBe(8);
  });

  it.each([
    { case: 'no items', payload: { items: [] } },
    { case: 'quantity 0', payload: { items: [{ sku: 'sku-apple', quantity: 0 }] } },
    { case: 'quantity 1.5', payload: { items: [{ sku: 'sku-apple', quantity: 1.5 }] } },
    { case: 'quantity 1001', payload: { items: [{ sku: 'sku-apple', quantity: 1001 }] } },
    { case: 'quantity as a string', payload: { items: [{ sku: 'sku-apple', quantity: '1' }] } },
    { case: 'an unknown field', payload: { items: [{ sku: 'sku-apple', quantity: 1 }], price: 0 } },
    { case: 'an unknown item field', payload: { items: [{ sku: 'sku-apple', quantity: 1, price: 0 }] } },
    {
      case: '51 items',
      payload: { items: Array.from({ length: 51 }, () => ({ sku: 'sku-apple', quantity: 1 })) },
    },
  ])('answers 400 for $case and stores nothing', async ({ payload }) => {
    const response = await postOrder(bob, payload);

    expect(response.statusCode).toBe(400);
    const list = await orders.inject({ method: 'GET', url: '/orders', headers: bearer(bob) });
    expect(list.json()).toEqual([]);
  });

  it('answers 401 without a token', async () => {
    const response = await orders.inject({
      method: 'POST',
      url: '/orders',
      payload: { items: [{ sku: 'sku-apple', quantity: 1 }] },
    });

    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it("lists the caller's orders newest first and hides other users' orders", async () => {
    const sku = await newSku(10);
    const older = (await postOrder(alice, { items: [{ sku, quantity: 1 }] })).json() as { id: string };
    const newer = (await postOrder(alice, { items: [{ sku, quantity: 1 }] })).json() as { id: string };

    const list = await orders.inject({ method: 'GET', url: '/orders', headers: bearer(alice) });
    const ofBob = await orders.inject({ method: 'GET', url: `/orders/${newer.id}`, headers: bearer(bob) });
    const ofAdmin = await orders.inject({
      method: 'GET',
      url: `/orders/${newer.id}`,
      headers: bearer(admin),
    });
    const malformed = await orders.inject({
      method: 'GET',
      url: '/orders/not-a-uuid',
      headers: bearer(alice),
    });

    const ids = (list.json() as Array<{ id: string }>).map((order) => order.id);
    expect(ids.indexOf(newer.id)).toBeLessThan(ids.indexOf(older.id));
    expect(ofBob.statusCode).toBe(404);
    expect(ofAdmin.statusCode).toBe(200);
    expect(malformed.statusCode).toBe(404);
  });

  // Last: these stop inventory. The subjects are fixed by the contract, so "inventory does not
  // answer" means no inventory app is listening, or a listener that never replies.
  it('answers 503 at once when no inventory listens and keeps the order failed', async () => {
    await inventory?.close();
    inventory = undefined;

    const startedAt = Date.now();
    const response = await postOrder(alice, { items: [{ sku: 'sku-apple', quantity: 1 }] });
    const elapsed = Date.now() - startedAt;

    expect(response.statusCode).toBe(503);
    expect(elapsed).toBeLessThan(RPC_TIMEOUT_MS + 1000);
    const { id } = response.json() as { id: string };
    const stored = await orders.inject({ method: 'GET', url: `/orders/${id}`, headers: bearer(alice) });
    expect(stored.json()).toMatchObject({ id, status: 'failed' });
  });

  it('answers 503 after ORDERS_RPC_TIMEOUT_MS when inventory takes the request but never answers', async () => {
    const silent = await NatsTestClient.connect(NATS_URL);
    const received: string[] = [];
    const subscription = silent.connection.subscribe(InventorySubjects.reserve);
    void (async () => {
      for await (const message of subscription) received.push(message.subject);
    })();
    await silent.connection.flush();

    try {
      const startedAt = Date.now();
      const response = await postOrder(alice, { items: [{ sku: 'sku-apple', quantity: 1 }] });
      const elapsed = Date.now() - startedAt;

      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ status: 'failed', reason: 'inventory_timeout' });
      expect(received).toHaveLength(1);
      expect(elapsed).toBeGreaterThanOrEqual(RPC_TIMEOUT_MS);
      expect(elapsed).toBeLessThan(RPC_TIMEOUT_MS + 1000);
    } finally {
      await silent.close();
    }
  });
});
