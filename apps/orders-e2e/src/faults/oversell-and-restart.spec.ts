import { randomUUID } from 'node:crypto';

import { type Backend, CLUSTER_START_TIMEOUT_MS, FaultCluster } from '../support/fault-cluster';
import { api } from '../support/http';
import { decodeClaims } from '../support/jwt';
import { type OrderBody, quantityOf, RelayClient, type RelayUser } from '../support/relay-client';

const STOCK = 20;
const ORDER_COUNT = 60;
const USER_COUNT = 6;

const backends: Backend[] = ['pglite', 'postgres'];
const ALL_REFUSED = { auth: 401, orders: 401, inventory: 401 };

describe.each(backends)('nothing oversold, nothing lost on restart (%s)', (backend) => {
  const sku = `sku-oversell-${randomUUID().slice(0, 8)}`;
  let cluster: FaultCluster;
  let relay: RelayClient;
  let adminToken: string;
  let users: RelayUser[];

  beforeAll(async () => {
    cluster = await FaultCluster.start({
      label: `oversell-${backend}`,
      backend,
      // the property under test is the count, not latency: 60 requests at once on 2 cores are slow
      env: { orders: { ORDERS_RPC_TIMEOUT_MS: '15000' } },
    });
    relay = new RelayClient(cluster);
    adminToken = await relay.adminToken();
    users = await Promise.all(Array.from({ length: USER_COUNT }, () => relay.newUser('oversell')));
  }, CLUSTER_START_TIMEOUT_MS);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  // an access token of a new session of `user`, logged out and refused everywhere (within 1 s)
  async function endedSessionToken(user: RelayUser): Promise<string> {
    const session = await relay.login(user.email, user.password);
    const { access_token: token, refresh_token: refreshToken } = session.body as {
      access_token: string;
      refresh_token: string;
    };
    const loggedOut = await api('POST', `${cluster.authUrl}/auth/logout`, {
      token,
      body: { refresh_token: refreshToken },
    });
    expect(loggedOut.status).toBe(204);
    const deadline = Date.now() + 1000;
    let refused = await refusals(token);
    while (JSON.stringify(refused) !== JSON.stringify(ALL_REFUSED) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      refused = await refusals(token);
    }
    expect(refused).toEqual(ALL_REFUSED);
    return token;
  }

  async function refusals(token: string): Promise<Record<'auth' | 'orders' | 'inventory', number>> {
    const [auth, orders, inventory] = await Promise.all(
      [
        `${cluster.authUrl}/auth/me`,
        `${cluster.ordersUrl}/orders`,
        `${cluster.inventoryUrl}/inventory/${sku}`,
      ].map(async (url) => (await api('GET', url, { token, timeoutMs: 10_000 })).status),
    );
    return { auth, orders, inventory };
  }

  async function ordersOfSku(): Promise<OrderBody[]> {
    const lists = await Promise.all(users.map((user) => relay.listOrders(user.accessToken)));
    return lists.flat().filter((order) => order.items.some((item) => item.sku === sku));
  }

  it(`confirms exactly ${STOCK} of ${ORDER_COUNT} concurrent orders of 1 on a stock of ${STOCK}`, async () => {
    await relay.setStock(adminToken, sku, STOCK);

    const answers = await Promise.all(
      Array.from({ length: ORDER_COUNT }, (_, index) =>
        relay.placeOrder(users[index % USER_COUNT].accessToken, [{ sku, quantity: 1 }]),
      ),
    );

    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(STOCK);
    expect(statuses.filter((status) => status === 409)).toHaveLength(ORDER_COUNT - STOCK);
    for (const answer of answers.filter((candidate) => candidate.status === 409)) {
      expect(answer.body).toMatchObject({ status: 'rejected', reason: 'insufficient_stock' });
    }
    expect(await relay.available(adminToken, sku)).toBe(0);
    const stored = await ordersOfSku();
    const confirmed = stored.filter((order) => order.status === 'confirmed');
    expect(stored).toHaveLength(ORDER_COUNT);
    expect(confirmed).toHaveLength(STOCK);
    expect(stored.filter((order) => order.status === 'rejected')).toHaveLength(ORDER_COUNT - STOCK);
    // stock taken (20 - 0) equals the confirmed quantities, exactly
    expect(quantityOf(confirmed, sku)).toBe(STOCK - (await relay.available(adminToken, sku)));
  }, 60_000);

  it.each(['auth', 'orders', 'inventory'] as const)(
    'keeps logins, old tokens, ended sessions, orders and stock when %s restarts',
    async (name) => {
      const [user] = users;
      const ordersBefore = await relay.listOrders(user.accessToken);
      const stockBefore = await relay.available(adminToken, sku);
      const oldKid = decodeHeaderKid(user.accessToken);
      // SECURITY S7: a session ended before the restart stays ended after it, from the first answer on
      const ended = await endedSessionToken(user);

      await cluster.apps[name].restart();

      expect(await refusals(ended)).toEqual(ALL_REFUSED);

      const login = await relay.login(user.email, user.password);
      expect(login.status).toBe(200);
      const me = await api<{ id: string }>('GET', `${cluster.authUrl}/auth/me`, {
        token: user.accessToken,
        timeoutMs: 10_000,
      });
      expect(me.status).toBe(200);
      expect(me.body.id).toBe(user.id);
      const jwks = await api<{ keys: { kid: string }[] }>('GET', `${cluster.authUrl}/.well-known/jwks.json`, {
        timeoutMs: 10_000,
      });
      expect(jwks.body.keys.map((key) => key.kid)).toContain(oldKid);
      // the token from before the restart still verifies at orders and inventory
      expect(await relay.listOrders(user.accessToken)).toEqual(ordersBefore);
      expect(await relay.available(user.accessToken, sku)).toBe(stockBefore);
      expect(ordersBefore.length).toBeGreaterThan(0);
      expect(decodeClaims(user.accessToken).sub).toBe(user.id);
    },
    90_000,
  );

  it('still takes orders after every app restarted', async () => {
    const [, user] = users;
    const spare = `${sku}-spare`;
    await relay.setStock(adminToken, spare, 3);

    const placed = await relay.placeOrder(user.accessToken, [{ sku: spare, quantity: 2 }]);

    expect(placed.status).toBe(201);
    expect(await relay.available(user.accessToken, spare)).toBe(1);
    expect(await relay.available(user.accessToken, sku)).toBe(0);
    expect(cluster.deadApps()).toEqual([]);
  }, 30_000);
});

function decodeHeaderKid(token: string): string {
  const [header = ''] = token.split('.');
  const parsed = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { kid?: string };
  return parsed.kid ?? '';
}
