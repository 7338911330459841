import { generateKeyPairSync, randomUUID } from 'node:crypto';

import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { headers as createNatsHeaders } from 'nats';

import { forgedTokens } from '@relay/auth/testing';
import { createServiceApp } from '@relay/bootstrap';
import { InventorySubjects, ServiceScopes } from '@relay/contracts';
import {
  createRevocationBucket,
  createTestIssuer,
  type JwksServer,
  NatsTestClient,
  startServiceUnderTest,
  type TestIssuer,
} from '@relay/testing';

// the shape of auth's refresh tokens (43 base64url characters), which most often is a sku's too
const PASTED_REFRESH_TOKEN = 'Zq3k9VxR2mT8pLw4Yc7NbH1sDf6GjK0aE5uI-oXy_Qr';

// Boots the real composition root on Fastify with a real NATS and real token verification against
// a served JWKS, to prove the global guards, pipe and filter cover the NATS handlers too.
describe('inventory app (HTTP + NATS)', () => {
  let issuer: TestIssuer;
  let jwks: JwksServer;
  let app: NestFastifyApplication;
  let nats: NatsTestClient;
  let stop: () => Promise<void>;
  let customerToken: string;
  let adminToken: string;

  beforeAll(async () => {
    issuer = await createTestIssuer({ issuer: 'http://issuer.relay.test' });
    jwks = await issuer.serveJwks();
    // a private server: the subjects are fixed by the contract, so other suites on a shared bus could answer
    const env = { AUTH_ISSUER: issuer.issuer, AUTH_JWKS_URI: jwks.url };
    const service = await startServiceUnderTest({ name: 'inventory', env }, async (natsUrl) => {
      // auth creates the revocation bucket; inventory only binds to it
      nats = await NatsTestClient.connect(natsUrl);
      await createRevocationBucket(nats.connection);
      // imported only now: ConfigModule.forRoot validates process.env when the module is loaded
      const { AppModule } = await import('./app.module');
      return createServiceApp(AppModule, { name: 'inventory', natsUrl, logLevel: 'error' });
    });
    ({ app, stop } = service);
    await app.init();
    await app.startAllMicroservices();
    await app.getHttpAdapter().getInstance().ready();
    customerToken = issuer.mintAccessToken({ claims: { sub: 'alice', roles: ['customer'] } });
    adminToken = issuer.mintAccessToken({ claims: { sub: 'root', roles: ['admin'] } });
  }, 60_000);

  afterAll(async () => {
    await nats?.close();
    await stop?.();
    await jwks?.stop();
  });

  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

  async function stockOf(sku: string): Promise<number> {
    const response = await app.inject({
      method: 'GET',
      url: `/inventory/${sku}`,
      headers: bearer(customerToken),
    });
    return (response.json() as { available: number }).available;
  }

  async function newSku(available: number): Promise<string> {
    const sku = `sku-${randomUUID().slice(0, 8)}`;
    const response = await app.inject({
      method: 'PUT',
      url: `/inventory/${sku}`,
      headers: bearer(adminToken),
      payload: { available },
    });
    expect(response.statusCode).toBe(200);
    return sku;
  }

  /** An order of the customer's holding `quantity` of `sku`. */
  async function reservedOrder(sku: string, quantity: number): Promise<string> {
    const orderId = randomUUID();
    const reply = await nats.request(
      InventorySubjects.reserve,
      { orderId, items: [{ sku, quantity }] },
      { headers: bearer(customerToken) },
    );
    expect(reply.response).toEqual({ orderId, reserved: true });
    return orderId;
  }

  describe('NATS inventory.reserve', () => {
    it('refuses a message without a token with 401 and changes nothing', async () => {
      const sku = await newSku(10);

      const reply = await nats.request(InventorySubjects.reserve, {
        orderId: randomUUID(),
        items: [{ sku, quantity: 1 }],
      });

      expect(reply.err).toMatchObject({ status: 401 });
      expect(await stockOf(sku)).toBe(10);
    });

    it('refuses a token signed by an unknown key with 401', async () => {
      const sku = await newSku(10);
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const forged = issuer.mintAccessToken({ key: privateKey });

      const reply = await nats.request(
        InventorySubjects.reserve,
        { orderId: randomUUID(), items: [{ sku, quantity: 1 }] },
        { headers: bearer(forged) },
      );

      expect(reply.err).toMatchObject({ status: 401 });
      expect(await stockOf(sku)).toBe(10);
    });

    it('refuses a valid token without the customer or admin role with 403', async () => {
      const sku = await newSku(10);
      const roleless = issuer.mintAccessToken({ claims: { roles: [] } });

      const reply = await nats.request(
        InventorySubjects.reserve,
        { orderId: randomUUID(), items: [{ sku, quantity: 1 }] },
        { headers: bearer(roleless) },
      );

      expect(reply.err).toMatchObject({ status: 403 });
      expect(await stockOf(sku)).toBe(10);
    });

    it('reserves with a customer token and emits inventory.reserved with the caller headers', async () => {
      const sku = await newSku(10);
      const orderId = randomUUID();
      const events = nats.connection.subscribe(InventorySubjects.reserved, { max: 1, timeout: 2000 });

      const reply = await nats.request(
        InventorySubjects.reserve,
        { orderId, items: [{ sku, quantity: 3 }] },
        { headers: { ...bearer(customerToken), 'x-request-id': 'req-42' } },
      );

      expect(reply.response).toEqual({ orderId, reserved: true });
      expect(await stockOf(sku)).toBe(7);
      for await (const message of events) {
        const event = JSON.parse(new TextDecoder().decode(message.data)) as {
          pattern: string;
          data: unknown;
        };
        expect(event).toMatchObject({
          pattern: InventorySubjects.reserved,
          data: { orderId, userId: 'alice', items: [{ sku, quantity: 3 }] },
        });
        expect(message.headers?.get('authorization')).toBe(`Bearer ${customerToken}`);
        expect(message.headers?.get('x-request-id')).toBe('req-42');
        expect(message.headers?.get('traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/);
      }
    });

    it('answers 409 insufficient_stock and takes nothing when one item is short', async () => {
      const plenty = await newSku(10);
      const scarce = await newSku(1);

      const reply = await nats.request(
        InventorySubjects.reserve,
        {
          orderId: randomUUID(),
          items: [
            { sku: plenty, quantity: 1 },
            { sku: scarce, quantity: 2 },
          ],
        },
        { headers: bearer(customerToken) },
      );

      expect(reply.err).toMatchObject({ status: 409, reason: 'insufficient_stock' });
      expect(await stockOf(plenty)).toBe(10);
      expect(await stockOf(scarce)).toBe(1);
    });

    it('answers 409 for an unknown sku without naming it (a secret pasted in, sku-shaped)', async () => {
      const reply = await nats.request(
        InventorySubjects.reserve,
        { orderId: randomUUID(), items: [{ sku: PASTED_REFRESH_TOKEN, quantity: 1 }] },
        { headers: bearer(customerToken) },
      );

      expect(reply.err).toEqual({ status: 409, reason: 'insufficient_stock', message: 'Not enough stock' });
    });

    it('answers 400 for an invalid or over-posted payload', async () => {
      const sku = await newSku(10);

      const zero = await nats.request(
        InventorySubjects.reserve,
        { orderId: randomUUID(), items: [{ sku, quantity: 0 }] },
        { headers: bearer(customerToken) },
      );
      const extra = await nats.request(
        InventorySubjects.reserve,
        { orderId: randomUUID(), items: [{ sku, quantity: 1 }], price: 0 },
        { headers: bearer(customerToken) },
      );

      expect(zero.err).toMatchObject({ status: 400 });
      expect(extra.err).toMatchObject({ status: 400 });
      expect(await stockOf(sku)).toBe(10);
    });
  });

  describe('NATS inventory.release', () => {
    it('refuses a release without a token and keeps the reservation, then releases once with one', async () => {
      const sku = await newSku(10);
      const orderId = await reservedOrder(sku, 4);

      const anonymous = await nats.request(InventorySubjects.release, { orderId });
      expect(anonymous.err).toMatchObject({ status: 401 });
      expect(await stockOf(sku)).toBe(6);

      const first = await nats.request(
        InventorySubjects.release,
        { orderId },
        { headers: bearer(customerToken) },
      );
      const second = await nats.request(
        InventorySubjects.release,
        { orderId },
        { headers: bearer(customerToken) },
      );
      expect(first.response).toEqual({ orderId, released: true });
      expect(second.response).toEqual({ orderId, released: true });
      expect(await stockOf(sku)).toBe(10);
    });

    // SECURITY N3: no forgery (the token table's refused rows: alg none, key confusion, tampered
    // claims, foreign keys, expired, …) releases someone's stock
    it('refuses every forged token with 401 and keeps the reservation', async () => {
      const sku = await newSku(10);
      const orderId = await reservedOrder(sku, 4);
      const forgeries = forgedTokens(issuer);
      expect(forgeries.length).toBeGreaterThan(50);

      for (const { reason, authorization } of forgeries) {
        const header = authorization();
        const reply = await nats.request(
          InventorySubjects.release,
          { orderId },
          header === undefined ? {} : { headers: { authorization: header } },
        );
        expect({ reason, err: reply.err }).toEqual({ reason, err: expect.objectContaining({ status: 401 }) });
      }
      expect(await stockOf(sku)).toBe(6);
    });
  });

  describe('NATS inventory.release by a service or another user', () => {
    const serviceToken = (scope: string): string =>
      issuer.mintAccessToken({
        claims: { sub: 'orders', client_id: 'orders', roles: [], scope, aud: ['inventory'] },
      });

    it("releases any user's order with a service token carrying scope inventory:release", async () => {
      const sku = await newSku(10);
      const orderId = await reservedOrder(sku, 4);

      const reply = await nats.request(
        InventorySubjects.release,
        { orderId },
        { headers: bearer(serviceToken(ServiceScopes.inventoryRelease)) },
      );

      expect(reply.response).toEqual({ orderId, released: true });
      expect(await stockOf(sku)).toBe(10);
    });

    it('refuses a service token without scope inventory:release with 403', async () => {
      const sku = await newSku(10);
      const orderId = await reservedOrder(sku, 4);

      const reply = await nats.request(
        InventorySubjects.release,
        { orderId },
        { headers: bearer(serviceToken('inventory:read')) },
      );

      expect(reply.err).toMatchObject({ status: 403 });
      expect(await stockOf(sku)).toBe(6);
    });

    // the caller's rights come before the payload, as @Roles gives on inventory.reserve: a caller
    // without them learns nothing of what inventory.release takes
    it.each([
      ['an empty payload', {}],
      ['an order id that is no uuid', { orderId: 'x' }],
      ['an unknown field', { orderId: randomUUID(), extra: 1 }],
    ])('refuses a token without its rights with 403 before %s is validated', async (_case, payload) => {
      const reply = await nats.request(InventorySubjects.release, payload, {
        headers: bearer(serviceToken('inventory:read')),
      });

      expect(reply.err).toMatchObject({ status: 403 });
    });

    it("does not release another customer's order", async () => {
      const sku = await newSku(10);
      const orderId = await reservedOrder(sku, 4);
      const bob = issuer.mintAccessToken({ claims: { sub: 'bob', roles: ['customer'] } });

      const reply = await nats.request(InventorySubjects.release, { orderId }, { headers: bearer(bob) });

      expect(reply.err).toEqual({ status: 404, message: `No reservation of yours for order ${orderId}` });
      expect(await stockOf(sku)).toBe(6);
    });

    it('refuses a service token on inventory.reserve with 403', async () => {
      const sku = await newSku(10);

      const reply = await nats.request(
        InventorySubjects.reserve,
        { orderId: randomUUID(), items: [{ sku, quantity: 1 }] },
        { headers: bearer(serviceToken(ServiceScopes.inventoryRelease)) },
      );

      expect(reply.err).toMatchObject({ status: 403 });
      expect(await stockOf(sku)).toBe(10);
    });
  });

  describe('NATS garbage payloads', () => {
    const subjects = [InventorySubjects.reserve, InventorySubjects.release, InventorySubjects.stock];

    async function rawRequest(subject: string, bytes: Uint8Array): Promise<{ err?: unknown }> {
      const headers = createNatsHeaders();
      headers.set('authorization', `Bearer ${customerToken}`);
      const reply = await nats.connection.request(subject, bytes, { timeout: 2000, headers });
      return JSON.parse(new TextDecoder().decode(reply.data)) as { err?: unknown };
    }

    const text = (value: string): Uint8Array => new TextEncoder().encode(value);
    const packet = (subject: string, data: unknown): Uint8Array =>
      text(JSON.stringify({ pattern: subject, data, id: randomUUID() }));

    const garbage = (subject: string, sku: string): Array<[string, Uint8Array]> => [
      ['bytes that are not JSON', text('{"pattern": nope')],
      ['invalid UTF-8', new Uint8Array([0xff, 0xfe, 0x7b])],
      ['an empty message', new Uint8Array()],
      ['a JSON number', text('42')],
      ['a JSON array', text('[1,2]')],
      ['data null', packet(subject, null)],
      ['data a string', packet(subject, 'sku')],
      ['data an array', packet(subject, [{ sku, quantity: 1 }])],
      ['missing fields', packet(subject, {})],
      ['wrong types', packet(subject, { orderId: 7, items: 'all', sku: 5 })],
      [
        'an extra field',
        packet(subject, { orderId: randomUUID(), items: [{ sku, quantity: 1 }], sku, userId: 'x' }),
      ],
      [
        'a huge array',
        packet(subject, {
          orderId: randomUUID(),
          items: Array.from({ length: 20_000 }, () => ({ sku, quantity: 1 })),
        }),
      ],
      [
        'a "__proto__" key',
        text(
          `{"pattern":"${subject}","id":"p1","data":{"orderId":"${randomUUID()}","items":[{"sku":"${sku}","quantity":1}],"sku":"${sku}","__proto__":{"isAdmin":true}}}`,
        ),
      ],
    ];

    it.each(subjects)('answers 400 to every garbage payload on %s and changes nothing', async (subject) => {
      const sku = await newSku(10);
      const orderId = randomUUID();
      await nats.request(
        InventorySubjects.reserve,
        { orderId, items: [{ sku, quantity: 2 }] },
        { headers: bearer(customerToken) },
      );

      for (const [name, bytes] of garbage(subject, sku)) {
        const reply = await rawRequest(subject, bytes);
        expect({ name, err: reply.err }).toMatchObject({
          name,
          err: { status: 400, message: expect.any(String) },
        });
      }

      expect(await stockOf(sku)).toBe(8);
      expect(({} as Record<string, unknown>)['isAdmin']).toBeUndefined();
      const healthy = await nats.request(
        InventorySubjects.stock,
        { sku },
        { headers: bearer(customerToken) },
      );
      expect(healthy.response).toEqual({ sku, available: 8 });
    });

    it('answers garbage without a token with 401', async () => {
      const reply = await nats.connection.request(InventorySubjects.reserve, text('not json'), {
        timeout: 2000,
      });

      expect(JSON.parse(new TextDecoder().decode(reply.data))).toMatchObject({ err: { status: 401 } });
    });
  });

  // SECURITY S11: a token narrowed to another scope (an exchange with scope, a service client) reads nothing
  const narrowed = (): string =>
    issuer.mintAccessToken({ claims: { sub: 'alice', roles: [], scope: 'orders:read', aud: ['inventory'] } });

  describe('NATS inventory.stock', () => {
    it('answers 403 to a token without scope inventory:read', async () => {
      const reply = await nats.request(
        InventorySubjects.stock,
        { sku: 'sku-pear' },
        { headers: bearer(narrowed()) },
      );

      expect(reply.err).toMatchObject({ status: 403 });
    });

    it('answers the stock level to a token with scope inventory:read and 404 for an unknown sku', async () => {
      const sku = await newSku(5);

      const known = await nats.request(InventorySubjects.stock, { sku }, { headers: bearer(customerToken) });
      // sku-shaped, as a refresh token pasted in by mistake is: the answer never repeats it
      const unknown = await nats.request(
        InventorySubjects.stock,
        { sku: PASTED_REFRESH_TOKEN },
        { headers: bearer(customerToken) },
      );

      expect(known.response).toEqual({ sku, available: 5 });
      expect(unknown.err).toEqual({ status: 404, message: 'Unknown sku' });
    });
  });

  describe('HTTP', () => {
    it('GET /inventory/:sku needs a Bearer token', async () => {
      const response = await app.inject({ method: 'GET', url: '/inventory/sku-apple' });

      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    });

    it('GET /inventory/:sku answers 403 to a token without scope inventory:read', async () => {
      const response = await app.inject({
        method: 'GET',
        url: '/inventory/sku-pear',
        headers: bearer(narrowed()),
      });

      expect(response.statusCode).toBe(403);
      expect(response.headers['www-authenticate']).toBe('Bearer error="insufficient_scope"');
    });

    it.each([
      ['a password that is no sku', 'p@ssw0rd!pasted'],
      ['a refresh token, sku-shaped', PASTED_REFRESH_TOKEN],
    ])('GET /inventory/:sku names in its 404 no path (%s pasted into the URL)', async (_, secret) => {
      const response = await app.inject({
        method: 'GET',
        url: `/inventory/${encodeURIComponent(secret)}`,
        headers: bearer(customerToken),
      });

      expect(response.statusCode).toBe(404);
      expect(response.body).not.toContain(secret);
      expect(response.json()).toMatchObject({ message: 'Unknown sku' });
    });

    it('GET /inventory/:sku answers the seeded stock and 404 for an unknown sku', async () => {
      const known = await app.inject({
        method: 'GET',
        url: '/inventory/sku-pear',
        headers: bearer(customerToken),
      });
      const unknown = await app.inject({
        method: 'GET',
        url: '/inventory/sku-none',
        headers: bearer(customerToken),
      });

      expect(known.statusCode).toBe(200);
      expect(known.json()).toEqual({ sku: 'sku-pear', available: 100 });
      expect(unknown.statusCode).toBe(404);
    });

    it.each([
      ['%00', 400],
      ['sku%00apple', 400],
      ['sku%20apple', 404],
      ['x'.repeat(65), 404],
      ['%E2%80%AE', 404],
    ])('GET /inventory/%s, a sku no sku can be, answers %i (never a database error)', async (sku, status) => {
      const response = await app.inject({
        method: 'GET',
        url: `/inventory/${sku}`,
        headers: bearer(customerToken),
      });

      expect(response.statusCode).toBe(status);
    });

    it('PUT /inventory/:sku is admin only', async () => {
      const response = await app.inject({
        method: 'PUT',
        url: '/inventory/sku-plum',
        headers: bearer(customerToken),
        payload: { available: 1 },
      });

      expect(response.statusCode).toBe(403);
      expect(response.headers['www-authenticate']).toBe('Bearer error="insufficient_scope"');
      expect(await stockOf('sku-plum')).toBe(100);
    });

    it.each([
      { case: 'a negative level', payload: { available: -1 } },
      { case: 'a fraction', payload: { available: 1.5 } },
      { case: 'a string', payload: { available: '5' } },
      { case: 'more than 1 000 000', payload: { available: 1_000_001 } },
      { case: 'an unknown field', payload: { available: 5, price: 1 } },
    ])('PUT /inventory/:sku refuses $case with 400', async ({ payload }) => {
      const response = await app.inject({
        method: 'PUT',
        url: '/inventory/sku-plum',
        headers: bearer(adminToken),
        payload,
      });

      expect(response.statusCode).toBe(400);
    });

    it.each([
      { case: 'malformed JSON', body: '{"available": ', contentType: 'application/json', status: 400 },
      {
        case: 'a "__proto__" key',
        body: '{"available":1,"__proto__":{"x":1}}',
        contentType: 'application/json',
        status: 400,
      },
      { case: 'a text/plain body', body: '{"available":1}', contentType: 'text/plain', status: 415 },
      {
        case: 'a form body',
        body: 'available=1',
        contentType: 'application/x-www-form-urlencoded',
        status: 415,
      },
      {
        case: 'a body over 1 MiB',
        body: `{"available":1,"pad":"${'x'.repeat(1_048_577)}"}`,
        contentType: 'application/json',
        status: 413,
      },
    ])(
      'PUT /inventory/:sku answers $status for $case and changes nothing',
      async ({ body, contentType, status }) => {
        const response = await app.inject({
          method: 'PUT',
          url: '/inventory/sku-plum',
          headers: { ...bearer(adminToken), 'content-type': contentType },
          payload: body,
        });

        expect(response.statusCode).toBe(status);
        expect(await stockOf('sku-plum')).toBe(100);
      },
    );

    it('GET /health is public', async () => {
      const response = await app.inject({ method: 'GET', url: '/health' });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        status: 'ok',
        checks: { database: 'up', nats: 'up', revocations: 'up' },
      });
    });
  });
});
