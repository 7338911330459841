import { randomUUID } from 'node:crypto';

import { tcpAnswers } from '../support/app-processes';
import { CLUSTER_START_TIMEOUT_MS, FaultCluster } from '../support/fault-cluster';
import { eventually, RelayClient } from '../support/relay-client';

// long enough for the spec to probe the health endpoints while orders still listens, not ready
const GRACE_MS = 5000;

describe('orders shutting down on SIGTERM with an order in flight', () => {
  let cluster: FaultCluster;
  let relay: RelayClient;
  let adminToken: string;

  beforeAll(async () => {
    cluster = await FaultCluster.start({
      label: 'graceful-shutdown',
      env: {
        orders: {
          // the order waits on a frozen inventory for the whole spec, so neither bound may cut it
          ORDERS_RPC_TIMEOUT_MS: '15000',
          SHUTDOWN_GRACE_MS: String(GRACE_MS),
          SHUTDOWN_TIMEOUT_MS: '15000',
        },
      },
    });
    relay = new RelayClient(cluster);
    adminToken = await relay.adminToken();
  }, CLUSTER_START_TIMEOUT_MS);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  const status = async (path: string): Promise<number> =>
    (await fetch(`${cluster.ordersUrl}${path}`, { signal: AbortSignal.timeout(5000) })).status;

  it('turns not ready, stops taking connections, answers the order in flight, then exits 0', async () => {
    const sku = `sku-graceful-${randomUUID().slice(0, 8)}`;
    await relay.setStock(adminToken, sku, 10);
    const user = await relay.newUser('graceful');
    const orders = cluster.apps.orders;
    const ordersPort = Number(new URL(cluster.ordersUrl).port);

    cluster.apps.inventory.freeze();
    let stopped: Promise<void> | undefined;
    const placed = relay.placeOrder(user.accessToken, [{ sku, quantity: 2 }]);
    try {
      // stored as pending, its inventory.reserve waiting at the frozen inventory: the request is in flight
      await eventually(
        async () =>
          (await relay.listOrders(user.accessToken)).some((order) =>
            order.items.some((item) => item.sku === sku),
          ),
        10_000,
        () => 'the order was never stored as pending',
      );

      stopped = orders.stop(60_000);

      await eventually(
        async () => (await status('/health/ready')) === 503,
        GRACE_MS,
        () => 'orders never answered /health/ready 503 after SIGTERM',
        50,
      );
      const ready = await fetch(`${cluster.ordersUrl}/health/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: 'unavailable', draining: true });
      expect(ready.headers.get('x-request-id')).toBeTruthy();
      expect(await status('/health/live')).toBe(200);

      await eventually(
        async () => !(await tcpAnswers('127.0.0.1', ordersPort)),
        GRACE_MS + 10_000,
        () => 'orders still accepted connections after its grace',
      );
      expect(orders.isRunning).toBe(true);
    } finally {
      cluster.apps.inventory.thaw();
    }

    const answer = await placed;
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ status: 'confirmed', items: [{ sku, quantity: 2 }] });
    expect(answer.headers.get('x-request-id')).toBeTruthy();

    await stopped;
    expect(orders.exit).toBe('code 0');

    // the confirmed order kept its stock: nothing was cut halfway
    expect(await relay.available(adminToken, sku)).toBe(8);
    await orders.start();
    const [stored] = (await relay.listOrders(user.accessToken)).filter((order) =>
      order.items.some((item) => item.sku === sku),
    );
    expect(stored).toMatchObject({ id: answer.body.id, status: 'confirmed' });
  }, 120_000);
});
