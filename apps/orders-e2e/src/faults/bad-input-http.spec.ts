import { randomUUID } from 'node:crypto';

import { CLUSTER_START_TIMEOUT_MS, FaultCluster } from '../support/fault-cluster';
import { api } from '../support/http';
import { rawRequest } from '../support/raw-http';
import { type OrderBody, RelayClient, type RelayUser } from '../support/relay-client';

const SKU = 'sku-bad-http';
const STOCK = 50;
const HUGE = `{"items":[${'{"sku":"sku-bad-http","quantity":1},'.repeat(60_000)}{"sku":"x","quantity":1}]}`;

type Caller = 'user' | 'admin' | 'none';

interface BadRequest {
  name: string;
  app: 'auth' | 'orders' | 'inventory';
  method: 'POST' | 'PUT';
  path: string;
  body: string;
  caller: Caller;
  status: number;
  contentType?: string;
}

const item = (fields: Record<string, unknown>): string => JSON.stringify({ items: [fields] });
const order = (body: string, name: string, status = 400): BadRequest => ({
  name,
  app: 'orders',
  method: 'POST',
  path: '/orders',
  body,
  caller: 'user',
  status,
});
const stock = (body: string, name: string, status = 400, path = `/inventory/${SKU}`): BadRequest => ({
  name,
  app: 'inventory',
  method: 'PUT',
  path,
  body,
  caller: 'admin',
  status,
});
const badEmail = `never-${randomUUID()}@orders-e2e.example.com`;
const auth = (path: string, body: string, name: string, status = 400): BadRequest => ({
  name,
  app: 'auth',
  method: 'POST',
  path,
  body,
  caller: 'none',
  status,
});

const cases: BadRequest[] = [
  order('{"items": [', 'malformed JSON'),
  order('null', 'a JSON null'),
  order('[]', 'a JSON array'),
  order('"items"', 'a JSON string'),
  order('{}', 'no items'),
  order('{"items":"sku-bad-http"}', 'items not an array'),
  order('{"items":[]}', 'no item'),
  order(JSON.stringify({ items: Array.from({ length: 51 }, () => ({ sku: SKU, quantity: 1 })) }), '51 items'),
  order(item({ sku: 42, quantity: 1 }), 'a numeric sku'),
  order(item({ sku: SKU, quantity: '1' }), 'a quantity as a string'),
  order(item({ sku: SKU, quantity: 0 }), 'quantity 0'),
  order(item({ sku: SKU, quantity: -1 }), 'a negative quantity'),
  order(item({ sku: SKU, quantity: 1.5 }), 'a fractional quantity'),
  order(item({ sku: SKU, quantity: 1001 }), 'quantity 1001'),
  order('{"items":[{"sku":"sku-bad-http","quantity":1e309}]}', 'an infinite quantity'),
  order(item({ sku: '../../etc/passwd', quantity: 1 }), 'a sku outside the pattern'),
  order(item({ sku: SKU, quantity: 1, price: 0 }), 'an unknown item field'),
  order(JSON.stringify({ items: [{ sku: SKU, quantity: 1 }], userId: 'someone-else' }), 'an unknown field'),
  order('{"__proto__":{"admin":true},"items":[{"sku":"sku-bad-http","quantity":1}]}', 'a __proto__ key'),
  order(HUGE, 'a body over 1 MiB', 413),
  { ...order(item({ sku: SKU, quantity: 1 }), 'a text/plain body', 415), contentType: 'text/plain' },
  stock('{"available": ', 'malformed JSON'),
  stock('{"available":"10"}', 'available as a string'),
  stock('{"available":-1}', 'a negative available'),
  stock('{"available":1.5}', 'a fractional available'),
  stock('{}', 'no available'),
  stock('{"available":10,"sku":"other"}', 'an unknown field'),
  stock('{"available":10}', 'a sku outside the pattern', 400, '/inventory/bad%20sku%3B'),
  stock(HUGE, 'a body over 1 MiB', 413),
  auth('/auth/register', '{"email":', 'malformed JSON'),
  auth('/auth/register', JSON.stringify({ email: [badEmail], password: 12345678901 }), 'wrong types'),
  auth(
    '/auth/register',
    JSON.stringify({ email: badEmail, password: 'correct-horse-battery', roles: ['admin'] }),
    'a role asked for',
  ),
  auth('/auth/register', HUGE, 'a body over 1 MiB', 413),
  auth('/auth/login', '{"email":', 'malformed JSON'),
  auth('/auth/login', JSON.stringify({ email: { $ne: '' }, password: { $ne: '' } }), 'operator objects'),
];

describe('bad input over HTTP never hurts', () => {
  let cluster: FaultCluster;
  let relay: RelayClient;
  let adminToken: string;
  let user: RelayUser;
  let ordersBefore: OrderBody[];

  beforeAll(async () => {
    cluster = await FaultCluster.start({ label: 'bad-http' });
    relay = new RelayClient(cluster);
    adminToken = await relay.adminToken();
    user = await relay.newUser('bad-http');
    await relay.setStock(adminToken, SKU, STOCK);
    expect((await relay.placeOrder(user.accessToken, [{ sku: SKU, quantity: 1 }])).status).toBe(201);
    ordersBefore = await relay.listOrders(user.accessToken);
  }, CLUSTER_START_TIMEOUT_MS);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  it.each(cases)('$app $method $path with $name answers $status with a clear JSON error', async (request) => {
    const token = { user: user.accessToken, admin: adminToken, none: undefined }[request.caller];

    const answer = await rawRequest(
      request.method,
      `${cluster.apps[request.app].url}${request.path}`,
      request.body,
      {
        token,
        contentType: request.contentType,
      },
    );

    expect({ status: answer.status, text: answer.text.slice(0, 300) }).toMatchObject({
      status: request.status,
    });
    expect(answer.contentType).toMatch(/^application\/json/);
    expect(answer.json).toEqual(expect.objectContaining({ message: expect.anything() }));
    expect(answer.text).not.toMatch(/node_modules|\n\s+at /);
  });

  // the answer is ready while fetch is still sending: every app reads the rest (bounded) before it
  // closes, so the client gets its 413 instead of a reset (EPIPE)
  it.each([
    ['auth', 'POST', '/auth/register'],
    ['orders', 'POST', '/orders'],
    ['inventory', 'PUT', `/inventory/${SKU}`],
  ] as const)(
    '%s answers 30 sequential 2 MiB uploads (%s %s) from fetch with 413, every one',
    async (app, method, path) => {
      const body = Buffer.alloc(2 * 1024 * 1024, 'a');
      const outcomes: string[] = [];
      for (let index = 0; index < 30; index += 1) {
        try {
          const response = await fetch(`${cluster.apps[app].url}${path}`, {
            method,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${user.accessToken}` },
            body,
          });
          await response.text();
          outcomes.push(String(response.status));
        } catch (error) {
          outcomes.push(String((error as { cause?: { code?: string } }).cause?.code ?? error));
        }
      }

      expect(outcomes).toEqual(Array.from({ length: 30 }, () => '413'));
    },
  );

  it('changed nothing: stock, orders, users and processes are as before', async () => {
    expect(await relay.available(adminToken, SKU)).toBe(STOCK - 1);
    expect(await relay.listOrders(user.accessToken)).toEqual(ordersBefore);
    const users = await api<unknown[]>(
      'GET',
      `${cluster.authUrl}/auth/admin/users?email=${encodeURIComponent(badEmail)}`,
      {
        token: adminToken,
        timeoutMs: 10_000,
      },
    );
    expect(users.status).toBe(200);
    expect(users.body).toEqual([]);
    expect(cluster.deadApps()).toEqual([]);
    expect((await relay.placeOrder(user.accessToken, [{ sku: SKU, quantity: 1 }])).status).toBe(201);
  });
});
