import { randomUUID } from 'node:crypto';

import { logMessages } from '../support/app-processes';
import { CLUSTER_START_TIMEOUT_MS, FaultCluster } from '../support/fault-cluster';
import { api } from '../support/http';
import type { ManagedApp } from '../support/managed-app';
import { eventually, RelayClient, type RelayUser } from '../support/relay-client';
import { expectSettled } from '../support/settlement';

const RPC_TIMEOUT_MS = 1500;
const ANSWER_BOUND_MS = RPC_TIMEOUT_MS + 2000;
const RECONNECT_TIMEOUT_MS = 30_000;
const OUTAGE_MS = 3000;

describe('NATS restarted mid-run', () => {
  const sku = `sku-nats-${randomUUID().slice(0, 8)}`;
  const initial = 100;
  const ids: string[] = [];
  let cluster: FaultCluster;
  let relay: RelayClient;
  let adminToken: string;
  let buyer: RelayUser;
  let leaver: RelayUser;

  beforeAll(async () => {
    cluster = await FaultCluster.start({
      label: 'nats-restart',
      env: { orders: { ORDERS_RPC_TIMEOUT_MS: String(RPC_TIMEOUT_MS) } },
    });
    relay = new RelayClient(cluster);
    adminToken = await relay.adminToken();
    [buyer, leaver] = await Promise.all([relay.newUser('nats'), relay.newUser('nats')]);
    await relay.setStock(adminToken, sku, initial);
  }, CLUSTER_START_TIMEOUT_MS);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  it('reconnects every service on its own: later orders succeed and nothing confirmed is lost', async () => {
    for (let index = 0; index < 3; index += 1) {
      const placed = await relay.placeOrder(buyer.accessToken, [{ sku, quantity: 2 }]);
      expect(placed.status).toBe(201);
      ids.push(placed.body.id);
    }
    const confirmedBefore = await relay.listOrders(buyer.accessToken);

    await cluster.nats.halt();
    // while the bus is down the API answers in bounded time and the order is not confirmed
    const during = await relay.placeOrder(buyer.accessToken, [{ sku, quantity: 1 }]);
    expect(during.elapsedMs).toBeLessThan(ANSWER_BOUND_MS);
    expect(during.status).toBe(503);
    if (during.body.id) ids.push(during.body.id);
    // down long enough for several reconnect attempts (reconnectTimeWait is 1 s)
    await new Promise((done) => setTimeout(done, OUTAGE_MS));
    await cluster.nats.resume();

    await cluster.waitHealthy(RECONNECT_TIMEOUT_MS);
    // the first orders after the comeback may race the resubscription; then every order succeeds
    await eventually(
      async () => {
        const placed = await relay.placeOrder(buyer.accessToken, [{ sku, quantity: 1 }]);
        if (placed.body.id) ids.push(placed.body.id);
        return placed.status === 201;
      },
      RECONNECT_TIMEOUT_MS,
      () => 'no order was confirmed after NATS came back',
      500,
    );
    for (let index = 0; index < 3; index += 1) {
      const placed = await relay.placeOrder(buyer.accessToken, [{ sku, quantity: 1 }]);
      expect(placed.status).toBe(201);
      ids.push(placed.body.id);
    }

    const after = await relay.listOrders(buyer.accessToken);
    for (const order of confirmedBefore) {
      expect(after).toContainEqual(order);
    }
    await expectSettled(relay, adminToken, sku, initial, ids);
    expect(cluster.deadApps()).toEqual([]);
  }, 120_000);

  it('still spreads revocations over the reconnected bus (logout refused everywhere within 1 s)', async () => {
    const login = await api<{ access_token: string; refresh_token: string }>(
      'POST',
      `${cluster.authUrl}/auth/login`,
      { body: { email: leaver.email, password: leaver.password }, timeoutMs: 10_000 },
    );
    expect(login.status).toBe(200);
    const token = login.body.access_token;
    expect((await api('GET', `${cluster.ordersUrl}/orders`, { token, timeoutMs: 10_000 })).status).toBe(200);

    const logout = await api('POST', `${cluster.authUrl}/auth/logout`, {
      token,
      body: { refresh_token: login.body.refresh_token },
      timeoutMs: 10_000,
    });
    expect(logout.status).toBe(204);

    await eventually(
      async () => {
        const [orders, inventory] = await Promise.all([
          api('GET', `${cluster.ordersUrl}/orders`, { token, timeoutMs: 5000 }),
          api('GET', `${cluster.inventoryUrl}/inventory/${sku}`, { token, timeoutMs: 5000 }),
        ]);
        return orders.status === 401 && inventory.status === 401;
      },
      1500,
      () => 'a logged-out token was still accepted 1.5 s after logout',
      100,
    );
  }, 30_000);

  // CONTRACT "Nothing lost": a revocation is durable once answered; if NATS is down at that moment it
  // takes effect everywhere within 1 s of NATS being back
  it('answers a logout while NATS is down; the token is refused everywhere within 1 s of NATS being back', async () => {
    const user = await relay.newUser('nats-durable');
    const login = await api<{ access_token: string; refresh_token: string }>(
      'POST',
      `${cluster.authUrl}/auth/login`,
      { body: { email: user.email, password: user.password }, timeoutMs: 10_000 },
    );
    const token = login.body.access_token;
    const probe = async (): Promise<number[]> => {
      const [orders, inventory] = await Promise.all([
        api('GET', `${cluster.ordersUrl}/orders`, { token, timeoutMs: 5000 }),
        api('GET', `${cluster.inventoryUrl}/inventory/${sku}`, { token, timeoutMs: 5000 }),
      ]);
      return [orders.status, inventory.status];
    };
    expect(await probe()).toEqual([200, 200]);

    await cluster.nats.halt();
    const logout = await api('POST', `${cluster.authUrl}/auth/logout`, {
      token,
      body: { refresh_token: login.body.refresh_token },
      timeoutMs: 10_000,
    });
    expect(logout.status).toBe(204);
    await new Promise((done) => setTimeout(done, 1500));
    await cluster.nats.resume();
    const back = Date.now();

    let revokedAfterMs = Number.POSITIVE_INFINITY;
    while (Date.now() - back < 5000) {
      const sentAt = Date.now();
      if ((await probe()).every((status) => status === 401)) {
        revokedAfterMs = sentAt - back;
        break;
      }
      await new Promise((done) => setTimeout(done, 50));
    }

    // 503 while a service catches up with the bucket (a moment of 200 between its replay and auth's
    // publish is within the contract's second), then 401 everywhere, for good
    expect(revokedAfterMs).toBeLessThanOrEqual(1000);
    expect(await probe()).toEqual([401, 401]);
    expect(
      (
        await api('POST', `${cluster.authUrl}/auth/refresh`, {
          body: { refresh_token: login.body.refresh_token },
          timeoutMs: 10_000,
        })
      ).status,
    ).toBe(401);
  }, 60_000);

  /** Stops `app`, halts NATS and starts `app` again; resolves once it says it waits for NATS (still halted). */
  async function restartWhileNatsIsDown(app: ManagedApp): Promise<void> {
    await app.stop();
    await cluster.nats.halt();
    app.spawn();
    await eventually(
      async () => Promise.resolve(logMessages(app).some((message) => message.startsWith('waiting up to'))),
      15_000,
      () => `${app.name} never said it waits for NATS; its last lines:\n${app.output.join('\n')}`,
    );
  }

  it('stops at once on SIGTERM while it waits for NATS at start (as a container PID 1 too)', async () => {
    const inventory = cluster.apps.inventory;
    try {
      await restartWhileNatsIsDown(inventory);
      const stoppedAt = Date.now();
      await inventory.stop(5000);

      // its own handler's exit (143), not the default action a PID 1 never takes, and not after 5 s
      expect(inventory.exit).toBe('code 143');
      expect(Date.now() - stoppedAt).toBeLessThan(3000);
    } finally {
      await cluster.nats.resume();
    }
    await inventory.start();
  }, 60_000);

  it('starts a service while NATS is down: it waits, says so once, and serves once NATS is back', async () => {
    const inventory = cluster.apps.inventory;
    try {
      await restartWhileNatsIsDown(inventory);
      // still waiting, not exited, well after NATS refused its first connect
      await new Promise((done) => setTimeout(done, 1000));
      expect(inventory.isRunning).toBe(true);
    } finally {
      await cluster.nats.resume();
    }

    await inventory.waitHealthy(30_000);
    // a warning (the cluster's apps log at warn): told once, however long the wait
    expect(
      logMessages(inventory).filter((message) => /^waiting up to \d+ s for NATS at tls:/.test(message)),
    ).toHaveLength(1);
    const placed = await relay.placeOrder(buyer.accessToken, [{ sku, quantity: 1 }]);
    expect(placed.status).toBe(201);
    ids.push(placed.body.id);
    await expectSettled(relay, adminToken, sku, initial, ids);
    expect(cluster.deadApps()).toEqual([]);
  }, 90_000);
});
