import { randomUUID } from 'node:crypto';

import { type NatsConnection } from 'nats';

import { InventorySubjects, MessageHeaders, ServiceScopes } from '@relay/contracts';

import {
  CLUSTER_START_TIMEOUT_MS,
  FaultCluster,
  INVENTORY_SERVICE_CLIENT_ID,
  ORDERS_SERVICE_CLIENT_ID,
} from '../support/fault-cluster';
import { api } from '../support/http';
import { decodeClaims } from '../support/jwt';
import { BusTap, connectBus, requestOnBus, type SeenMessage } from '../support/nats-bus';
import { RelayClient } from '../support/relay-client';

const SKU = `sku-exchange-${randomUUID().slice(0, 8)}`;
const STOCK = 50;
const ITEMS = [{ sku: SKU, quantity: 2 }];
const PASSWORD = 'correct-horse-battery';
/** The contract's "within 1 s", polled every 50 ms from the moment the logout returned. */
const WITHIN_MS = 1000;
const POLL_MS = 50;
const CALL_TIMEOUT_MS = 10_000;

interface Session {
  userId: string;
  accessToken: string;
  refreshToken: string;
}

const orderIdOf = (message: SeenMessage): string | undefined =>
  (message.packet.data as { orderId?: string } | undefined)?.orderId;

function bearerOf(message: SeenMessage): string {
  return (message.headers[MessageHeaders.authorization] ?? '').replace(/^Bearer /, '');
}

function audienceOf(token: string): string[] {
  const aud = decodeClaims(token)['aud'];
  return Array.isArray(aud) ? (aud as string[]) : [String(aud)];
}

/**
 * Sends `probe` every 50 ms from `since` until it answers `wanted`; throws when a probe sent later
 * than `since + 1 s` is still needed. A probe counts when it was sent, so slow answers do not stretch it.
 */
async function answersWithin(
  what: string,
  probe: () => Promise<number>,
  wanted: number,
  since: number,
): Promise<void> {
  let last: number | undefined;
  for (let sentAt = Date.now(); sentAt - since <= WITHIN_MS; sentAt = Date.now()) {
    last = await probe();
    if (last === wanted) return;
    await new Promise((done) => setTimeout(done, Math.max(0, sentAt + POLL_MS - Date.now())));
  }
  throw new Error(`${what} did not answer ${wanted} within ${WITHIN_MS} ms of the logout (last: ${last})`);
}

/** Orders in PROPAGATION_MODE=exchange: inventory sees only tokens narrowed to it (RFC 8693). */
describe('the whole order chain with PROPAGATION_MODE=exchange', () => {
  let cluster: FaultCluster;
  let relay: RelayClient;
  let adminToken: string;
  // each tap listens as the service that receives the subject; orders' identity also sends the replay
  let asInventory: NatsConnection;
  let asOrders: NatsConnection;
  let reserveTap: BusTap;
  let reservedTap: BusTap;

  beforeAll(async () => {
    cluster = await FaultCluster.start({
      label: 'exchange-mode',
      env: { orders: { PROPAGATION_MODE: 'exchange' } },
    });
    relay = new RelayClient(cluster);
    adminToken = await relay.adminToken();
    await relay.setStock(adminToken, SKU, STOCK);
    [asInventory, asOrders] = await Promise.all([
      connectBus('inventory', cluster.bus),
      connectBus('orders', cluster.bus),
    ]);
    reserveTap = await BusTap.open(asInventory, InventorySubjects.reserve);
    reservedTap = await BusTap.open(asOrders, InventorySubjects.reserved);
  }, CLUSTER_START_TIMEOUT_MS);

  afterAll(async () => {
    reserveTap?.close();
    reservedTap?.close();
    await Promise.all([asInventory?.drain(), asOrders?.drain()]);
    await cluster?.stop();
  }, 30_000);

  async function registerAndLogin(): Promise<Session> {
    const credentials = { email: `exchange-${randomUUID()}@orders-e2e.example.com`, password: PASSWORD };
    const registered = await api<{ id: string }>('POST', `${cluster.authUrl}/auth/register`, {
      body: credentials,
      timeoutMs: CALL_TIMEOUT_MS,
    });
    expect(registered.status).toBe(201);
    const login = await api<{ access_token: string; refresh_token: string }>(
      'POST',
      `${cluster.authUrl}/auth/login`,
      { body: credentials, timeoutMs: CALL_TIMEOUT_MS },
    );
    expect(login.status).toBe(200);
    return {
      userId: registered.body.id,
      accessToken: login.body.access_token,
      refreshToken: login.body.refresh_token,
    };
  }

  it("reserves with a token exchanged for inventory only, which dies with the user's session", async () => {
    const session = await registerAndLogin();

    const placed = await relay.placeOrder(session.accessToken, ITEMS);

    expect(placed.status).toBe(201);
    expect(placed.body).toMatchObject({ userId: session.userId, status: 'confirmed', items: ITEMS });
    const orderId = placed.body.id;
    expect(await relay.available(adminToken, SKU)).toBe(STOCK - ITEMS[0].quantity);

    // what inventory received: the user's token exchanged by orders, for inventory alone
    const reserve = await reserveTap.waitFor((message) => orderIdOf(message) === orderId);
    const exchanged = bearerOf(reserve);
    expect(exchanged).not.toBe(session.accessToken);
    expect(audienceOf(exchanged)).toEqual(['inventory']);
    expect(decodeClaims(exchanged)).toMatchObject({
      sub: session.userId,
      act: { sub: ORDERS_SERVICE_CLIENT_ID },
      sid: decodeClaims(session.accessToken)['sid'],
    });

    // the acknowledgement reaches orders: inventory cannot pass a token for inventory on, so it sends
    // the event on its own behalf, with a token orders accepts
    const reserved = await reservedTap.waitFor((message) => orderIdOf(message) === orderId);
    expect(reserved.packet.data).toMatchObject({ orderId, userId: session.userId, items: ITEMS });
    const acknowledgement = bearerOf(reserved);
    expect(audienceOf(acknowledgement)).toContain('orders');
    expect(decodeClaims(acknowledgement)).toMatchObject({ sub: INVENTORY_SERVICE_CLIENT_ID });
    expect(String(decodeClaims(acknowledgement)['scope']).split(' ')).toContain(
      ServiceScopes.ordersAcknowledge,
    );
    // orders verifies it (a 403 for the missing scope, not a 401): it may acknowledge, not read orders
    const verifiedByOrders = await api('GET', `${cluster.ordersUrl}/orders`, {
      token: acknowledgement,
      timeoutMs: CALL_TIMEOUT_MS,
    });
    expect(verifiedByOrders.status).toBe(403);
    expect(verifiedByOrders.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');
    expect(cluster.apps.orders.output.filter((line) => line.includes(orderId))).toEqual([]);
    const stored = await relay.getOrder(session.accessToken, orderId);
    expect(stored.status).toBe(200);
    expect(stored.body.status).toBe('confirmed');

    const loggedOut = await api('POST', `${cluster.authUrl}/auth/logout`, {
      token: session.accessToken,
      body: { refresh_token: session.refreshToken },
      timeoutMs: CALL_TIMEOUT_MS,
    });
    const since = Date.now();
    expect(loggedOut.status).toBe(204);

    const newOrder = async (): Promise<number> => (await relay.placeOrder(session.accessToken, ITEMS)).status;
    const replayedReserve = async (): Promise<number> => {
      const reply = await requestOnBus(
        asOrders,
        InventorySubjects.reserve,
        { orderId: randomUUID(), items: ITEMS },
        { [MessageHeaders.authorization]: `Bearer ${exchanged}` },
      );
      return reply.err?.status ?? 200;
    };
    await Promise.all([
      answersWithin('POST /orders with the old access token', newOrder, 401, since),
      answersWithin('inventory.reserve with the exchanged token', replayedReserve, 401, since),
    ]);

    // once refused, neither reserves anything
    const before = await relay.available(adminToken, SKU);
    expect(await newOrder()).toBe(401);
    expect(await replayedReserve()).toBe(401);
    expect(await relay.available(adminToken, SKU)).toBe(before);
  }, 60_000);
});
