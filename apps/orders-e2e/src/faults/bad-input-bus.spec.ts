import { randomUUID } from 'node:crypto';

import { headers as natsHeaders, type NatsConnection } from 'nats';

import { AuthSubjects, InventorySubjects, MessageHeaders } from '@relay/contracts';
import type { BusService } from '@relay/testing';

import { CLUSTER_START_TIMEOUT_MS, FaultCluster } from '../support/fault-cluster';
import { api } from '../support/http';
import { connectBus, type NestReply, permissionViolations } from '../support/nats-bus';
import { type OrderBody, RelayClient, type RelayUser } from '../support/relay-client';

const SKU = 'sku-bad-bus';
const STOCK = 50;
const REPLY_TIMEOUT_MS = 3000;

/** Payloads that are not a Nest packet at all: the service cannot even read an id to answer. */
const unreadable: [string, Uint8Array][] = [
  ['not JSON', Buffer.from('not json')],
  ['an empty payload', new Uint8Array()],
  ['invalid UTF-8', Uint8Array.from([0xff, 0xfe, 0x00, 0x7b])],
  ['a JSON number', Buffer.from('42')],
  ['a JSON null', Buffer.from('null')],
  ['a JSON array', Buffer.from('[]')],
  ['a packet without data or id', Buffer.from('{"pattern":"x"}')],
];

/** Nest packets (with an id) whose data is wrong: the answer must be an err, never a success. */
function malformedData(subject: string): [string, unknown][] {
  const huge = Array.from({ length: 20_000 }, () => ({ sku: SKU, quantity: 1 }));
  return [
    ['data as a string', 'x'],
    ['data as null', null],
    ['an order id that is no uuid', { orderId: 'nope', items: [{ sku: SKU, quantity: 1 }], sku: SKU }],
    ['a negative quantity', { orderId: randomUUID(), items: [{ sku: SKU, quantity: -5 }] }],
    ['a quantity as a string', { orderId: randomUUID(), items: [{ sku: SKU, quantity: '5' }] }],
    [
      'an unknown field',
      { orderId: randomUUID(), items: [{ sku: SKU, quantity: 1 }], sku: SKU, admin: true },
    ],
    ['a sku as an operator object', { orderId: randomUUID(), sku: { $ne: '' } }],
    [`20 000 items (${subject})`, { orderId: randomUUID(), items: huge, sku: SKU }],
  ];
}

const requestSubjects = [InventorySubjects.reserve, InventorySubjects.release, InventorySubjects.stock];
const eventSubjects = [InventorySubjects.reserved, AuthSubjects.revoked, AuthSubjects.keysRotated];

/**
 * Who sends the garbage: the one identity the closed bus lets publish the subject. A valid bus
 * identity still needs a valid token on every message, which is what these cases prove.
 */
const PUBLISHERS: Record<string, BusService> = {
  [InventorySubjects.reserve]: 'orders',
  [InventorySubjects.release]: 'orders',
  [InventorySubjects.stock]: 'orders',
  [InventorySubjects.reserved]: 'inventory',
  [AuthSubjects.revoked]: 'auth',
  [AuthSubjects.keysRotated]: 'auth',
};

describe('garbage on the bus never hurts', () => {
  let cluster: FaultCluster;
  let relay: RelayClient;
  let adminToken: string;
  let user: RelayUser;
  let ordersBefore: OrderBody[];
  const buses = new Map<BusService, { nc: NatsConnection; violations: string[] }>();

  beforeAll(async () => {
    cluster = await FaultCluster.start({ label: 'bad-bus' });
    relay = new RelayClient(cluster);
    adminToken = await relay.adminToken();
    user = await relay.newUser('bad-bus');
    await relay.setStock(adminToken, SKU, STOCK);
    expect((await relay.placeOrder(user.accessToken, [{ sku: SKU, quantity: 1 }])).status).toBe(201);
    ordersBefore = await relay.listOrders(user.accessToken);
    for (const service of new Set(Object.values(PUBLISHERS))) {
      const nc = await connectBus(service, cluster.bus);
      buses.set(service, { nc, violations: permissionViolations(nc) });
    }
  }, CLUSTER_START_TIMEOUT_MS);

  // A crashed service fails its own case; bring it back so the next case tests something.
  afterEach(async () => {
    if (cluster.deadApps().length > 0) await cluster.startApps();
  }, 60_000);

  afterAll(async () => {
    await Promise.all([...buses.values()].map((bus) => bus.nc.close()));
    await cluster?.stop();
  }, 30_000);

  function publisherOf(subject: string): { nc: NatsConnection; violations: string[] } {
    const bus = buses.get(PUBLISHERS[subject]);
    if (bus === undefined) throw new Error(`no connection may publish ${subject}`);
    return bus;
  }

  function withToken(token?: string) {
    const outgoing = natsHeaders();
    if (token) outgoing.set(MessageHeaders.authorization, `Bearer ${token}`);
    return outgoing;
  }

  async function ask(subject: string, payload: Uint8Array, token?: string): Promise<NestReply | string> {
    try {
      const reply = await publisherOf(subject).nc.request(subject, payload, {
        timeout: REPLY_TIMEOUT_MS,
        headers: withToken(token),
      });
      return JSON.parse(Buffer.from(reply.data).toString('utf8')) as NestReply;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  /** Nothing changed and every service still serves the user. */
  async function expectUnharmed(): Promise<void> {
    // let a crash that the garbage caused happen before looking
    await new Promise((done) => setTimeout(done, 200));
    expect(cluster.deadApps()).toEqual([]);
    expect(await relay.available(user.accessToken, SKU)).toBe(STOCK - 1);
    expect(await relay.listOrders(user.accessToken)).toEqual(ordersBefore);
    const me = await api('GET', `${cluster.authUrl}/auth/me`, { token: user.accessToken, timeoutMs: 5000 });
    expect(me.status).toBe(200);
  }

  describe.each(requestSubjects)('%s', (subject) => {
    it.each(unreadable)('answers %s with a clear err, with or without a token', async (_name, payload) => {
      for (const token of [undefined, user.accessToken]) {
        const reply = await ask(subject, payload, token);
        expect(reply).toMatchObject({ err: { status: expect.any(Number), message: expect.any(String) } });
        expect([400, 401]).toContain(typeof reply === 'string' ? reply : reply.err?.status);
        expect(reply).not.toHaveProperty('response');
      }
      await expectUnharmed();
    });

    it.each(malformedData(subject))(
      'answers %s with a clear err and changes nothing',
      async (_name, data) => {
        const packet = Buffer.from(JSON.stringify({ pattern: subject, data, id: randomUUID() }));

        const anonymous = await ask(subject, packet);
        const authenticated = await ask(subject, packet, user.accessToken);

        expect(anonymous).toMatchObject({ err: { status: 401 } });
        expect(authenticated).toMatchObject({ err: { status: 400, message: expect.anything() } });
        expect(authenticated).not.toHaveProperty('response');
        await expectUnharmed();
      },
    );
  });

  describe.each(eventSubjects)('%s', (subject) => {
    const events: [string, Uint8Array][] = [
      ...unreadable,
      ['an event naming the user with a bad time', json({ kind: 'sub', id: 'USER', at: 'x' })],
      ['an event of an unknown kind', json({ kind: 'everything', id: 'USER', at: 9_999_999_999 })],
      ['an event with an operator id', json({ kind: 'sub', id: { $ne: '' }, at: 9_999_999_999 })],
      ['a reserved event for an unknown order', json({ orderId: randomUUID(), userId: 'USER', items: 'x' })],
    ];

    it.each(events)('ignores %s and stays up', async (_name, template) => {
      const payload = Buffer.from(Buffer.from(template).toString('utf8').replaceAll('USER', user.id));
      const { nc, violations } = publisherOf(subject);
      nc.publish(subject, payload, { headers: withToken(user.accessToken) });
      nc.publish(subject, payload);
      await nc.flush();
      // the bus delivered both: a refused publish would make this case prove nothing
      expect(violations).toEqual([]);

      await expectUnharmed();
      const orders = await api('GET', `${cluster.ordersUrl}/orders`, {
        token: user.accessToken,
        timeoutMs: 5000,
      });
      expect(orders.status).toBe(200);
    });
  });
});

function json(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value));
}
