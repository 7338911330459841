import { randomUUID } from 'node:crypto';

import { headers as createNatsHeaders } from 'nats';

import { InventorySubjects, ServiceScopes } from '@relay/contracts';
import { DATABASE, type Database } from '@relay/database';
import { createTestIssuer, NatsTestClient, type TestIssuer } from '@relay/testing';

import { PendingOrdersRecovery } from './orders/pending-orders.recovery';
import { ReleaseSweeper } from './orders/release-sweeper';
import { claimsOf } from './testing/inventory-stand-in';
import { type OrdersTestBed, startOrdersTestBed, TEST_CLIENTS } from './testing/orders-test-app';

const RPC_TIMEOUT_MS = 1000;

// The real orders app (HTTP + NATS, real token verification against a served JWKS) on a private
// NATS, with a hand-written inventory stand-in answering the contract subjects.
describe('orders app (HTTP + NATS)', () => {
  let bed: OrdersTestBed<TestIssuer>;
  let alice: string;
  let bob: string;
  let admin: string;

  beforeAll(async () => {
    bed = await startOrdersTestBed((url) => createTestIssuer({ issuer: url }), {
      ORDERS_RPC_TIMEOUT_MS: String(RPC_TIMEOUT_MS),
    });
    alice = bed.issuer.mintAccessToken({ claims: { sub: 'alice', roles: ['customer'] } });
    bob = bed.issuer.mintAccessToken({ claims: { sub: 'bob', roles: ['customer'] } });
    admin = bed.issuer.mintAccessToken({ claims: { sub: 'root', roles: ['admin'] } });
  }, 90_000);

  afterAll(async () => {
    await bed?.close();
  });

  beforeEach(() => {
    bed.inventory.mode = 'answer';
    bed.inventory.eventToken = undefined;
  });

  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

  function postOrder(token: string, payload: unknown, headers: Record<string, string> = {}) {
    return bed.app.inject({
      method: 'POST',
      url: '/orders',
      headers: { ...bearer(token), ...headers },
      payload: payload as object,
    });
  }

  function newSku(available: number): string {
    const sku = `sku-${randomUUID().slice(0, 8)}`;
    bed.inventory.setStock(sku, available);
    return sku;
  }

  async function orderRow(id: string): Promise<{ acknowledged: unknown; releasePending: boolean }> {
    const [row] = await bed.app.get<Database>(DATABASE).query<{
      acknowledged: unknown;
      release_pending: boolean;
    }>('SELECT inventory_acknowledged_at AS acknowledged, release_pending FROM orders WHERE id = $1', [id]);
    return { acknowledged: row.acknowledged, releasePending: row.release_pending };
  }

  async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check()) return true;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return check();
  }

  describe('GET /health', () => {
    it('is public and reports the database, NATS and the revocation feed', async () => {
      const response = await bed.app.inject({ method: 'GET', url: '/health' });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        status: 'ok',
        checks: { database: 'up', nats: 'up', revocations: 'up' },
      });
    });
  });

  describe('POST /orders', () => {
    it("answers 201 with the confirmed order, reserving with the caller's token", async () => {
      const sku = newSku(10);

      const response = await postOrder(alice, { items: [{ sku, quantity: 3 }] });

      expect(response.statusCode).toBe(201);
      const body = response.json() as { id: string };
      expect(body).toEqual({
        id: expect.any(String),
        userId: 'alice',
        status: 'confirmed',
        items: [{ sku, quantity: 3 }],
        createdAt: expect.any(String),
      });
      const [reserve] = bed.inventory
        .callsOf(InventorySubjects.reserve)
        .filter((call) => call.data['orderId'] === body.id);
      expect(reserve.data).toEqual({ orderId: body.id, items: [{ sku, quantity: 3 }] });
      expect(reserve.authorization).toBe(`Bearer ${alice}`);
      expect(reserve.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/);
      expect(bed.inventory.available(sku)).toBe(7);
    });

    it('answers 409 rejected when stock is short', async () => {
      const plenty = newSku(10);
      const scarce = newSku(1);

      const response = await postOrder(alice, {
        items: [
          { sku: plenty, quantity: 1 },
          { sku: scarce, quantity: 2 },
        ],
      });

      expect(response.statusCode).toBe(409);
      expect(response.json()).toEqual({ status: 'rejected', reason: 'insufficient_stock' });
      expect(bed.inventory.available(plenty)).toBe(10);
    });

    it('returns the first answer for a repeated Idempotency-Key and reserves once', async () => {
      const sku = newSku(10);
      const headers = { 'idempotency-key': randomUUID() };

      const [first, second] = await Promise.all([
        postOrder(alice, { items: [{ sku, quantity: 2 }] }, headers),
        postOrder(alice, { items: [{ sku, quantity: 2 }] }, headers),
      ]);
      const third = await postOrder(alice, { items: [{ sku, quantity: 2 }] }, headers);

      expect([first.statusCode, second.statusCode, third.statusCode]).toEqual([201, 201, 201]);
      const ids = [first, second, third].map((response) => (response.json() as { id: string }).id);
      expect(new Set(ids).size).toBe(1);
      const reserves = bed.inventory
        .callsOf(InventorySubjects.reserve)
        .filter((call) => call.data['orderId'] === ids[0]);
      expect(reserves).toHaveLength(1);
      expect(bed.inventory.available(sku)).toBe(8);
    });

    it.each([
      { mode: 'unauthorized' as const, status: 401 },
      { mode: 'forbidden' as const, status: 403 },
    ])(
      'answers a repeat of an order inventory refused ($status) as the first time, reserving nothing',
      async ({ mode, status }) => {
        const sku = newSku(10);
        const headers = { 'idempotency-key': randomUUID() };
        bed.inventory.mode = mode;

        const first = await postOrder(alice, { items: [{ sku, quantity: 2 }] }, headers);
        const repeat = await postOrder(alice, { items: [{ sku, quantity: 2 }] }, headers);

        expect([first.statusCode, repeat.statusCode]).toEqual([status, status]);
        const reservesOfSku = bed.inventory
          .callsOf(InventorySubjects.reserve)
          .filter((call) => (call.data['items'] as Array<{ sku: string }>)[0]?.sku === sku);
        expect(reservesOfSku).toHaveLength(1);
        expect(bed.inventory.available(sku)).toBe(10);
      },
    );

    it.each([
      { case: 'no items', payload: { items: [] } },
      { case: 'quantity 0', payload: { items: [{ sku: 'sku-apple', quantity: 0 }] } },
      { case: 'quantity 1.5', payload: { items: [{ sku: 'sku-apple', quantity: 1.5 }] } },
      { case: 'quantity 1001', payload: { items: [{ sku: 'sku-apple', quantity: 1001 }] } },
      { case: 'quantity as a string', payload: { items: [{ sku: 'sku-apple', quantity: '1' }] } },
      { case: 'an unknown field', payload: { items: [{ sku: 'sku-apple', quantity: 1 }], price: 0 } },
      { case: 'an unknown item field', payload: { items: [{ sku: 'sku-apple', quantity: 1, price: 0 }] } },
      { case: 'items not an array', payload: { items: { sku: 'sku-apple', quantity: 1 } } },
      { case: 'a body that is an array', payload: [{ sku: 'sku-apple', quantity: 1 }] },
      {
        case: 'an item that is an array of items',
        payload: { items: [[{ sku: 'sku-apple', quantity: 1 }]] },
      },
      { case: 'an item that is an empty array', payload: { items: [[]] } },
      {
        case: '51 items',
        payload: { items: Array.from({ length: 51 }, () => ({ sku: 'sku-apple', quantity: 1 })) },
      },
    ])('answers 400 for $case and stores nothing', async ({ payload }) => {
      const response = await postOrder(bob, payload);

      expect(response.statusCode).toBe(400);
      const list = await bed.app.inject({ method: 'GET', url: '/orders', headers: bearer(bob) });
      expect(list.json()).toEqual([]);
    });

    it.each([
      { case: 'malformed JSON', body: '{"items": [', contentType: 'application/json', status: 400 },
      {
        case: 'a "__proto__" key',
        body: '{"items":[{"sku":"a","quantity":1}],"__proto__":{"x":1}}',
        contentType: 'application/json',
        status: 400,
      },
      { case: 'a text/plain body', body: 'items=1', contentType: 'text/plain', status: 415 },
      { case: 'a form body', body: 'items=1', contentType: 'application/x-www-form-urlencoded', status: 415 },
      {
        case: 'a body over 1 MiB',
        body: `{"items":[],"pad":"${'x'.repeat(1_048_577)}"}`,
        contentType: 'application/json',
        status: 413,
      },
    ])('answers $status for $case and stores nothing', async ({ body, contentType, status }) => {
      const response = await bed.app.inject({
        method: 'POST',
        url: '/orders',
        headers: { ...bearer(bob), 'content-type': contentType },
        payload: body,
      });

      expect(response.statusCode).toBe(status);
      const list = await bed.app.inject({ method: 'GET', url: '/orders', headers: bearer(bob) });
      expect(list.json()).toEqual([]);
    });

    it('answers 401 without a token', async () => {
      const response = await bed.app.inject({
        method: 'POST',
        url: '/orders',
        payload: { items: [{ sku: 'sku-apple', quantity: 1 }] },
      });

      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    });
  });

  describe('GET /orders', () => {
    it("lists the caller's orders newest first and hides other users' orders", async () => {
      const sku = newSku(10);
      const older = (await postOrder(alice, { items: [{ sku, quantity: 1 }] })).json() as { id: string };
      const newer = (await postOrder(alice, { items: [{ sku, quantity: 1 }] })).json() as { id: string };

      const list = await bed.app.inject({ method: 'GET', url: '/orders', headers: bearer(alice) });
      const ofBob = await bed.app.inject({ method: 'GET', url: `/orders/${newer.id}`, headers: bearer(bob) });
      const ofAdmin = await bed.app.inject({
        method: 'GET',
        url: `/orders/${newer.id}`,
        headers: bearer(admin),
      });
      const malformed = await bed.app.inject({
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

    it('pages the orders newest first: limit, then after the last one, with a Link to the next page', async () => {
      const carol = bed.issuer.mintAccessToken({
        claims: { sub: `carol-${randomUUID()}`, roles: ['customer'] },
      });
      const sku = newSku(10);
      const placed: string[] = [];
      for (let index = 0; index < 3; index += 1) {
        placed.unshift(
          ((await postOrder(carol, { items: [{ sku, quantity: 1 }] })).json() as { id: string }).id,
        );
      }
      const get = (url: string) => bed.app.inject({ method: 'GET', url, headers: bearer(carol) });
      const ids = (response: { json(): unknown }) =>
        (response.json() as Array<{ id: string }>).map(({ id }) => id);

      const first = await get('/orders?limit=2');
      const next = /^<([^>]+)>; rel="next"$/.exec(String(first.headers['link']))?.[1] ?? '';
      const second = await get(next);
      const whole = await get('/orders');

      expect([first.statusCode, ids(first)]).toEqual([200, placed.slice(0, 2)]);
      expect(next).toBe(`/orders?limit=2&after=${placed[1]}`);
      expect([second.statusCode, ids(second), second.headers['link']]).toEqual([
        200,
        placed.slice(2),
        undefined,
      ]);
      expect([ids(whole), whole.headers['link']]).toEqual([placed, undefined]);
    });

    it.each([
      ['a limit of 0', '?limit=0'],
      ['a limit over 1000', '?limit=1001'],
      ['a limit that is no number', '?limit=ten'],
      ['two limits', '?limit=1&limit=2'],
      ['an after that is no order id', '?after=not-an-id'],
    ])('answers %s with 400', async (_, query) => {
      const response = await bed.app.inject({
        method: 'GET',
        url: `/orders${query}`,
        headers: bearer(alice),
      });

      expect(response.statusCode).toBe(400);
    });

    it("answers 400 to an after that is another user's order, naming nothing of it", async () => {
      const ofBob = (await postOrder(bob, { items: [{ sku: newSku(10), quantity: 1 }] })).json() as {
        id: string;
      };

      const response = await bed.app.inject({
        method: 'GET',
        url: `/orders?after=${ofBob.id}`,
        headers: bearer(alice),
      });

      expect(response.statusCode).toBe(400);
      expect(response.body).not.toContain(ofBob.id);
    });

    // SECURITY S11: a token exchanged with scope=inventory:read (roles dropped) authorises no more:
    // not the user's orders, not a new one; nor does a service token without the orders scopes
    it('refuses a token whose scopes do not cover the route with 403 insufficient_scope', async () => {
      const sku = newSku(10);
      await postOrder(alice, { items: [{ sku, quantity: 1 }] });
      const narrowed = bed.issuer.mintAccessToken({
        claims: { sub: 'alice', roles: [], scope: 'inventory:read', act: { sub: 'orders' } },
      });

      const list = await bed.app.inject({ method: 'GET', url: '/orders', headers: bearer(narrowed) });
      const placed = await postOrder(narrowed, { items: [{ sku, quantity: 1 }] });
      const readOnly = bed.issuer.mintAccessToken({ claims: { sub: 'alice', scope: 'orders:read' } });
      const readOnlyPlaced = await postOrder(readOnly, { items: [{ sku, quantity: 1 }] });
      const readOnlyList = await bed.app.inject({ method: 'GET', url: '/orders', headers: bearer(readOnly) });

      for (const refused of [list, placed, readOnlyPlaced]) {
        expect(refused.statusCode).toBe(403);
        expect(refused.headers['www-authenticate']).toBe('Bearer error="insufficient_scope"');
      }
      expect(readOnlyList.statusCode).toBe(200);
      expect(bed.inventory.available(sku)).toBe(9);
    });
  });

  describe('NATS inventory.reserved', () => {
    // a confirmed order whose acknowledgement (from the stand-in's event) has come and been erased
    async function confirmedOrderWithoutAcknowledgement(): Promise<string> {
      const response = await postOrder(alice, { items: [{ sku: newSku(5), quantity: 1 }] });
      const { id } = response.json() as { id: string };
      await eventually(async () => (await orderRow(id)).acknowledged !== null);
      await bed.app
        .get<Database>(DATABASE)
        .query('UPDATE orders SET inventory_acknowledged_at = NULL WHERE id = $1', [id]);
      return id;
    }

    it("records the event sent back with the customer's token", async () => {
      const { id } = (await postOrder(alice, { items: [{ sku: newSku(5), quantity: 1 }] })).json() as {
        id: string;
      };

      expect(await eventually(async () => (await orderRow(id)).acknowledged !== null)).toBe(true);
    });

    it("records the event for an order's lines of one sku, which inventory adds up past a line's 1000", async () => {
      const id = await confirmedOrderWithoutAcknowledgement();
      const client = await NatsTestClient.connect(bed.natsUrl);
      try {
        // POST /orders took [{sku, 600}, {sku, 600}]; inventory reserved and reports {sku, 1200}
        const event = { orderId: id, userId: 'alice', items: [{ sku: newSku(0), quantity: 1200 }] };
        await client.emit(InventorySubjects.reserved, event, { headers: bearer(alice) });

        expect(await eventually(async () => (await orderRow(id)).acknowledged !== null)).toBe(true);
      } finally {
        await client.close();
      }
    });

    it("records the event sent with inventory's own token (scope orders:acknowledge)", async () => {
      bed.inventory.eventToken = bed.issuer.mintAccessToken({
        claims: {
          sub: 'inventory',
          client_id: 'inventory',
          roles: [],
          scope: TEST_CLIENTS.inventory.scopes.join(' '),
          aud: ['orders'],
        },
      });

      const { id } = (await postOrder(alice, { items: [{ sku: newSku(5), quantity: 1 }] })).json() as {
        id: string;
      };

      expect(await eventually(async () => (await orderRow(id)).acknowledged !== null)).toBe(true);
    });

    it("ignores the event from another user's token or a service token without the scope", async () => {
      const id = await confirmedOrderWithoutAcknowledgement();
      const client = await NatsTestClient.connect(bed.natsUrl);
      const scopeless = bed.issuer.mintAccessToken({
        claims: { sub: 'inventory', roles: [], scope: '', aud: ['orders'] },
      });

      try {
        for (const token of [bob, scopeless]) {
          await client.emit(
            InventorySubjects.reserved,
            { orderId: id, userId: 'alice', items: [] },
            { headers: bearer(token) },
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 300));
      } finally {
        await client.close();
      }

      expect((await orderRow(id)).acknowledged).toBeNull();
    });

    it('ignores garbage events and keeps serving', async () => {
      const id = await confirmedOrderWithoutAcknowledgement();
      const client = await NatsTestClient.connect(bed.natsUrl);
      const headers = { headers: bearer(alice) };
      const raw = (text: string): void =>
        client.connection.publish(InventorySubjects.reserved, new TextEncoder().encode(text), {
          headers: natsHeaders(bearer(alice)),
        });

      try {
        raw('not json at all');
        raw('\u00ff\u00fe');
        raw('[1,2,3]');
        raw(
          `{"pattern":"inventory.reserved","data":{"orderId":"${id}","userId":"alice","items":[],"__proto__":{"polluted":true}}}`,
        );
        for (const data of [
          null,
          42,
          'text',
          [id],
          { orderId: id },
          { orderId: 123, userId: 'alice', items: [] },
          { orderId: id, userId: 'alice', items: 'none' },
          { orderId: id, userId: 'alice', items: [], extra: true },
          {
            orderId: id,
            userId: 'alice',
            items: Array.from({ length: 5000 }, () => ({ sku: 'a', quantity: 1 })),
          },
        ]) {
          await client.emit(InventorySubjects.reserved, data, headers);
        }
        await client.connection.flush();
        await new Promise((resolve) => setTimeout(resolve, 300));

        expect((await orderRow(id)).acknowledged).toBeNull();
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
        await client.emit(InventorySubjects.reserved, { orderId: id, userId: 'alice', items: [] }, headers);
        expect(await eventually(async () => (await orderRow(id)).acknowledged !== null)).toBe(true);
      } finally {
        await client.close();
      }
    });
  });

  describe('when inventory does not answer', () => {
    it('answers 503 after ORDERS_RPC_TIMEOUT_MS, then releases the stock it took', async () => {
      const sku = newSku(5);
      bed.inventory.mode = 'reserve-without-answer';

      const startedAt = Date.now();
      const response = await postOrder(alice, { items: [{ sku, quantity: 2 }] });
      const elapsed = Date.now() - startedAt;

      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ status: 'failed', reason: 'inventory_timeout' });
      expect(elapsed).toBeGreaterThanOrEqual(RPC_TIMEOUT_MS);
      expect(elapsed).toBeLessThan(RPC_TIMEOUT_MS + 1000);
      const { id } = response.json() as { id: string };
      // the stand-in kept the stock (a lost reply); the release on alice's behalf gives it back
      expect(await eventually(() => bed.inventory.available(sku) === 5)).toBe(true);
      expect(await eventually(async () => !(await orderRow(id)).releasePending)).toBe(true);
      const stored = await bed.app.inject({ method: 'GET', url: `/orders/${id}`, headers: bearer(alice) });
      expect(stored.json()).toMatchObject({ id, status: 'failed' });
    });

    it("releases orders failed by a crash with orders' own token (scope inventory:release)", async () => {
      const sku = newSku(5);
      bed.inventory.mode = 'reserve-without-answer';
      const id = randomUUID();
      // a crash between inventory taking the stock and orders hearing back: the order is still pending
      await bed.app.get<Database>(DATABASE).query(
        `INSERT INTO orders (id, user_id, status, items, created_at)
           VALUES ($1, 'alice', 'pending', $2, now() - interval '1 minute')`,
        [id, JSON.stringify([{ sku, quantity: 3 }])],
      );
      const client = await NatsTestClient.connect(bed.natsUrl);
      await client
        .request(
          InventorySubjects.reserve,
          { orderId: id, items: [{ sku, quantity: 3 }] },
          { headers: bearer(alice), timeoutMs: 200 },
        )
        .catch(() => undefined);
      await client.close();
      expect(bed.inventory.available(sku)).toBe(2);

      await bed.app.get(PendingOrdersRecovery).failAbandoned();
      const released = await bed.app.get(ReleaseSweeper).sweep();

      expect(released).toBeGreaterThanOrEqual(1);
      expect(bed.inventory.available(sku)).toBe(5);
      expect(await orderRow(id)).toMatchObject({ releasePending: false });
      const release = bed.inventory
        .callsOf(InventorySubjects.release)
        .filter((call) => call.data['orderId'] === id)
        .at(-1);
      expect(claimsOf(release?.authorization)).toMatchObject({
        sub: 'orders',
        roles: [],
        scope: ServiceScopes.inventoryRelease,
        aud: ['inventory'],
      });
      expect(bed.auth.grants).toContainEqual({
        grantType: 'client_credentials',
        clientId: 'orders',
        audience: 'inventory',
      });
    });

    it('answers 503 saying inventory could not take the order when inventory answers 503', async () => {
      bed.inventory.mode = 'unavailable';
      try {
        const response = await postOrder(alice, { items: [{ sku: 'sku-apple', quantity: 1 }] });

        expect(response.statusCode).toBe(503);
        expect(response.json()).toMatchObject({
          status: 'failed',
          reason: 'inventory_unavailable',
          message: expect.stringMatching(/^Inventory could not take the order now/),
        });
      } finally {
        bed.inventory.mode = 'answer';
      }
    });

    it('answers 503 at once when no inventory listens, keeps the order failed, and queues no release', async () => {
      await bed.inventory.stop();

      const startedAt = Date.now();
      const response = await postOrder(alice, { items: [{ sku: 'sku-apple', quantity: 1 }] });

      expect(response.statusCode).toBe(503);
      expect(Date.now() - startedAt).toBeLessThan(RPC_TIMEOUT_MS + 1000);
      const { id } = response.json() as { id: string };
      const stored = await bed.app.inject({ method: 'GET', url: `/orders/${id}`, headers: bearer(alice) });
      expect(stored.json()).toMatchObject({ id, status: 'failed' });
      // "no responders": the reservation reached no inventory, so nothing is held and nothing released
      expect(await orderRow(id)).toMatchObject({ releasePending: false });
    });
  });
});

function natsHeaders(record: Record<string, string>): ReturnType<typeof createNatsHeaders> {
  const headers = createNatsHeaders();
  for (const [name, value] of Object.entries(record)) headers.set(name, value);
  return headers;
}
