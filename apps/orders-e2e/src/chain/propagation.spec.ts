import { randomBytes, randomUUID } from 'node:crypto';

import { type NatsConnection } from 'nats';

import { InventorySubjects, MessageHeaders } from '@relay/contracts';

import { ORDERS_URL } from '../support/e2e-env';
import { api, newCustomer } from '../support/http';
import { decodeClaims } from '../support/jwt';
import { BusTap, connectBus, type SeenMessage } from '../support/nats-bus';

const SKU = 'sku-pear';
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

interface Hop {
  traceId: string;
  parentId: string;
  requestId: string;
  subject: string;
}

function hop(message: SeenMessage): Hop {
  const match = TRACEPARENT.exec(message.headers[MessageHeaders.traceparent] ?? '');
  const authorization = message.headers[MessageHeaders.authorization] ?? '';
  return {
    traceId: match?.[1] ?? 'no valid traceparent',
    parentId: match?.[2] ?? 'no valid traceparent',
    requestId: message.headers[MessageHeaders.requestId] ?? 'no x-request-id',
    subject: decodeClaims(authorization.replace(/^Bearer /, '')).sub,
  };
}

const orderIdOf = (message: SeenMessage): string | undefined =>
  (message.packet.data as { orderId?: string } | undefined)?.orderId;

/** HTTP → orders → inventory.reserve → inventory.reserved: one user, one trace, one request id. */
describe('propagation across the whole chain', () => {
  // each tap listens as the service that receives the subject: no identity may read another's messages
  let asInventory: NatsConnection;
  let asOrders: NatsConnection;
  let reserveTap: BusTap;
  let reservedTap: BusTap;

  beforeAll(async () => {
    [asInventory, asOrders] = await Promise.all([connectBus('inventory'), connectBus('orders')]);
    reserveTap = await BusTap.open(asInventory, InventorySubjects.reserve);
    reservedTap = await BusTap.open(asOrders, InventorySubjects.reserved);
  });

  afterAll(async () => {
    reserveTap.close();
    reservedTap.close();
    await Promise.all([asInventory.drain(), asOrders.drain()]);
  });

  async function placeAndTrace(headers: Record<string, string>) {
    const customer = await newCustomer();
    const created = await api<{ id: string; userId: string }>('POST', `${ORDERS_URL}/orders`, {
      token: customer.accessToken,
      body: { items: [{ sku: SKU, quantity: 1 }] },
      headers,
      timeoutMs: 10_000,
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const reserve = await reserveTap.waitFor((message) => orderIdOf(message) === id);
    const reserved = await reservedTap.waitFor((message) => orderIdOf(message) === id);
    return { customer, created, reserve, reserved };
  }

  it('carries the caller, its trace id and its x-request-id on every hop', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    const requestId = `chain-${randomUUID()}`;

    const { customer, created, reserve, reserved } = await placeAndTrace({
      traceparent: `00-${traceId}-${parentId}-01`,
      'x-request-id': requestId,
    });

    const userId = decodeClaims(customer.accessToken).sub;
    expect(created.body.userId).toBe(userId);
    const hops = [hop(reserve), hop(reserved)];
    for (const seen of hops) {
      expect(seen).toMatchObject({ traceId, requestId, subject: userId });
      // these apps run no OpenTelemetry SDK (no OTEL_EXPORTER_OTLP_ENDPOINT): they record no span, so
      // the caller's span travels on as the parent, sampled flag included (chain/trace.spec.ts covers
      // the apps with tracing: a new span per hop)
      expect(seen.parentId).toBe(parentId);
    }
    expect(reserved.packet.data).toMatchObject({
      orderId: created.body.id,
      userId,
      items: [{ sku: SKU, quantity: 1 }],
    });
  });

  it('starts one trace and one request id at the edge when the caller sends none', async () => {
    const { reserve, reserved } = await placeAndTrace({});

    const [first, second] = [hop(reserve), hop(reserved)];
    expect(first.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(second.traceId).toBe(first.traceId);
    expect(first.requestId).not.toBe('no x-request-id');
    expect(second.requestId).toBe(first.requestId);
    expect(second.subject).toBe(first.subject);
  });

  it('replaces an invalid traceparent with a fresh valid trace instead of passing it on', async () => {
    const { reserve, reserved } = await placeAndTrace({
      traceparent: `00-${'0'.repeat(32)}-${'0'.repeat(16)}-01`,
      'x-request-id': 'bad request id with spaces',
    });

    const [first, second] = [hop(reserve), hop(reserved)];
    expect(first.traceId).not.toBe('0'.repeat(32));
    expect(first.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(second.traceId).toBe(first.traceId);
    expect(first.requestId).not.toContain(' ');
    expect(second.requestId).toBe(first.requestId);
  });
});
