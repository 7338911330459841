import { randomUUID } from 'node:crypto';

import { type NatsConnection } from 'nats';

import { InventorySubjects, MessageHeaders, type StockLevel } from '@relay/contracts';

import { INVENTORY_URL, ORDERS_URL } from '../support/e2e-env';
import { api, type Customer, newCustomer } from '../support/http';
import { asUnsecuredToken, decodeClaims, withFlippedPayloadChar, withTamperedClaims } from '../support/jwt';
import { BusTap, connectBus, requestOnBus } from '../support/nats-bus';

const SKU = 'sku-apple';
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

interface OrderResponse {
  id: string;
  userId: string;
  status: string;
  items: { sku: string; quantity: number }[];
  createdAt: string;
}

async function available(customer: Customer, sku = SKU): Promise<number> {
  const stock = await api<StockLevel>('GET', `${INVENTORY_URL}/inventory/${sku}`, {
    token: customer.accessToken,
  });
  expect(stock.status).toBe(200);
  return stock.body.available;
}

function placeOrder(customer: Customer, quantity: number, sku = SKU) {
  return api<OrderResponse>('POST', `${ORDERS_URL}/orders`, {
    token: customer.accessToken,
    body: { items: [{ sku, quantity }] },
  });
}

describe('POST /orders', () => {
  // inventory's identity: the only one that may see what travels on inventory.reserve
  let nc: NatsConnection;

  beforeAll(async () => {
    nc = await connectBus('inventory');
  });

  afterAll(async () => {
    await nc.drain();
  });

  it('confirms an order, lists it for its owner and takes the stock', async () => {
    const customer = await newCustomer();
    const before = await available(customer);

    const created = await placeOrder(customer, 2);

    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      userId: decodeClaims(customer.accessToken).sub,
      status: 'confirmed',
      items: [{ sku: SKU, quantity: 2 }],
    });
    expect(typeof created.body.id).toBe('string');
    expect(Number.isNaN(Date.parse(created.body.createdAt))).toBe(false);
    const listed = await api<OrderResponse[]>('GET', `${ORDERS_URL}/orders`, {
      token: customer.accessToken,
    });
    expect(listed.status).toBe(200);
    expect(listed.body[0]).toMatchObject({
      id: created.body.id,
      status: 'confirmed',
    });
    const fetched = await api<OrderResponse>('GET', `${ORDERS_URL}/orders/${created.body.id}`, {
      token: customer.accessToken,
    });
    expect(fetched.status).toBe(200);
    expect(await available(customer)).toBe(before - 2);
  });

  it("forwards the caller's token, traceparent and x-request-id to inventory.reserve, never in the data", async () => {
    const customer = await newCustomer();
    const tap = await BusTap.open(nc, InventorySubjects.reserve);

    try {
      const created = await placeOrder(customer, 1);
      expect(created.status).toBe(201);
      const message = await tap.waitFor(
        (seen) => (seen.packet.data as { orderId?: string } | undefined)?.orderId === created.body.id,
      );

      const authorization = message.headers[MessageHeaders.authorization] ?? '';
      expect(authorization).toBe(`Bearer ${customer.accessToken}`);
      const forwarded = decodeClaims(authorization.replace(/^Bearer /, ''));
      const original = decodeClaims(customer.accessToken);
      expect({ jti: forwarded.jti, sub: forwarded.sub }).toEqual({
        jti: original.jti,
        sub: original.sub,
      });
      expect(message.headers[MessageHeaders.traceparent]).toMatch(TRACEPARENT);
      expect(message.headers[MessageHeaders.requestId]).toBeTruthy();
      expect(message.packet.pattern).toBe(InventorySubjects.reserve);
      expect(message.raw).not.toContain(customer.accessToken);
      expect(message.raw).not.toContain(customer.accessToken.split('.')[2]);
      expect(message.raw.toLowerCase()).not.toContain('bearer');
    } finally {
      tap.close();
    }
  });

  it('answers 401 without a bearer token', async () => {
    const refused = await api('POST', `${ORDERS_URL}/orders`, {
      body: { items: [{ sku: SKU, quantity: 1 }] },
    });

    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
  });

  it('rejects an order larger than the stock with 409 insufficient_stock and reserves nothing', async () => {
    const customer = await newCustomer();
    const before = await available(customer);

    const rejected = await placeOrder(customer, before + 1);

    expect(rejected.status).toBe(409);
    expect(rejected.body).toMatchObject({
      status: 'rejected',
      reason: 'insufficient_stock',
    });
    expect(await available(customer)).toBe(before);
  });

  it("answers 404 for another user's order", async () => {
    const owner = await newCustomer();
    const stranger = await newCustomer();
    const created = await placeOrder(owner, 1);
    expect(created.status).toBe(201);

    const peeked = await api('GET', `${ORDERS_URL}/orders/${created.body.id}`, {
      token: stranger.accessToken,
    });

    expect(peeked.status).toBe(404);
  });
});

describe('inventory.reserve on the bus', () => {
  const forgeries: {
    reason: string;
    headers: (token: string) => Record<string, string>;
  }[] = [
    { reason: 'carries no authorization header', headers: () => ({}) },
    {
      reason: 'carries a token whose claims were changed after signing',
      headers: (token) => ({
        [MessageHeaders.authorization]: `Bearer ${withTamperedClaims(token)}`,
      }),
    },
    {
      reason: 'carries a token with one payload character flipped',
      headers: (token) => ({
        [MessageHeaders.authorization]: `Bearer ${withFlippedPayloadChar(token)}`,
      }),
    },
    {
      reason: 'carries an alg "none" token',
      headers: (token) => ({
        [MessageHeaders.authorization]: `Bearer ${asUnsecuredToken(token)}`,
      }),
    },
  ];
  // orders' identity may publish inventory.reserve: its bus identity is valid, the token is what is forged
  let nc: NatsConnection;

  beforeAll(async () => {
    nc = await connectBus('orders');
  });

  afterAll(async () => {
    await nc.drain();
  });

  it.each(forgeries)('answers err 401 and reserves nothing when the request $reason', async ({ headers }) => {
    const customer = await newCustomer();
    const before = await available(customer);
    const data = {
      orderId: randomUUID(),
      items: [{ sku: SKU, quantity: 1 }],
    };

    const reply = await requestOnBus(nc, InventorySubjects.reserve, data, headers(customer.accessToken));

    expect(reply.err).toMatchObject({ status: 401 });
    expect(reply.response).toBeUndefined();
    expect(await available(customer)).toBe(before);
  });
});
