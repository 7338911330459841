import { randomUUID } from 'node:crypto';

import { CLUSTER_START_TIMEOUT_MS, FaultCluster } from '../support/fault-cluster';
import {
  eventually,
  type OrderBody,
  RelayClient,
  type RelayUser,
  type TimedResponse,
} from '../support/relay-client';
import { expectSettled, orderById } from '../support/settlement';

const RPC_TIMEOUT_MS = 1500;
// an answer may take the RPC timeout plus storing the order and a loaded 2-core machine
const ANSWER_BOUND_MS = RPC_TIMEOUT_MS + 2000;

describe('inventory crashes and hangs while orders are in flight', () => {
  let cluster: FaultCluster;
  let relay: RelayClient;
  let adminToken: string;
  let users: RelayUser[];

  beforeAll(async () => {
    cluster = await FaultCluster.start({
      label: 'inventory-crash',
      env: { orders: { ORDERS_RPC_TIMEOUT_MS: String(RPC_TIMEOUT_MS) } },
    });
    relay = new RelayClient(cluster);
    adminToken = await relay.adminToken();
    users = await Promise.all(Array.from({ length: 4 }, () => relay.newUser('crash')));
  }, CLUSTER_START_TIMEOUT_MS);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  async function newSku(stock: number): Promise<string> {
    const sku = `sku-crash-${randomUUID().slice(0, 8)}`;
    await relay.setStock(adminToken, sku, stock);
    return sku;
  }

  const settled = (sku: string, initial: number, ids: string[]) =>
    expectSettled(relay, adminToken, sku, initial, ids);
  const findOrder = (id: string) => orderById(relay, adminToken, id);

  it('answers 503 within the RPC timeout while inventory hangs, and holds nothing for those orders after it wakes', async () => {
    const sku = await newSku(100);
    cluster.apps.inventory.freeze();
    let answers: TimedResponse<OrderBody>[];
    try {
      answers = await Promise.all(
        users.map((user) => relay.placeOrder(user.accessToken, [{ sku, quantity: 2 }])),
      );
    } finally {
      cluster.apps.inventory.thaw();
    }

    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({ status: 'failed', reason: 'inventory_timeout' });
      expect(answer.elapsedMs).toBeLessThan(ANSWER_BOUND_MS);
    }
    // the woken inventory now handles the queued reserves (and the releases sent after them)
    await settled(
      sku,
      100,
      answers.map((answer) => answer.body.id),
    );
    expect(await relay.available(adminToken, sku)).toBe(100);
  }, 60_000);

  it('leaves every order confirmed with stock held or failed with nothing held when inventory is SIGKILLed mid-run', async () => {
    const initial = 1000;
    const sku = await newSku(initial);
    const inFlight: Promise<TimedResponse<OrderBody>>[] = [];
    for (let index = 0; index < 40; index += 1) {
      const user = users[index % users.length];
      inFlight.push(relay.placeOrder(user.accessToken, [{ sku, quantity: 1 + (index % 3) }]));
      if (index === 15) await cluster.apps.inventory.kill();
      await new Promise((done) => setTimeout(done, 15));
    }
    const answers = await Promise.all(inFlight);

    const statuses = answers.map((answer) => answer.status);
    expect(statuses.every((status) => status === 201 || status === 503)).toBe(true);
    expect(statuses).toContain(201);
    expect(statuses).toContain(503);
    expect(Math.max(...answers.map((answer) => answer.elapsedMs))).toBeLessThan(ANSWER_BOUND_MS);
    for (const answer of answers.filter((candidate) => candidate.status === 503)) {
      expect(answer.body).toMatchObject({ status: 'failed' });
    }

    await cluster.apps.inventory.start();
    await settled(
      sku,
      initial,
      answers.map((answer) => answer.body.id),
    );
    const placed = await relay.placeOrder(users[0].accessToken, [{ sku, quantity: 1 }]);
    expect(placed.status).toBe(201);
  }, 90_000);

  it('fails an order whose orders process was SIGKILLed mid-flight and holds nothing for it', async () => {
    const sku = await newSku(50);
    const [user] = users;
    cluster.apps.inventory.freeze();
    // the request is stored as pending and its inventory.reserve is queued at the frozen inventory
    const lost = relay.placeOrder(user.accessToken, [{ sku, quantity: 5 }]).catch(() => undefined);
    let id: string | undefined;
    try {
      await eventually(
        async () => {
          id = (await relay.listOrders(user.accessToken)).find((order) =>
            order.items.some((item) => item.sku === sku),
          )?.id;
          return id !== undefined;
        },
        5000,
        () => 'the order was never stored as pending',
        50,
      );
      await cluster.apps.orders.kill();
      expect(await lost).toBeUndefined();
      await cluster.apps.orders.start();
    } finally {
      cluster.apps.inventory.thaw();
    }

    await settled(sku, 50, [id ?? '']);
    expect((await findOrder(id ?? '')).status).toBe('failed');
    expect(await relay.available(adminToken, sku)).toBe(50);
  }, 90_000);
});
