import { randomUUID } from 'node:crypto';

import { type NatsConnection } from 'nats';

import { InventorySubjects, MessageHeaders } from '@relay/contracts';

import { AUTH_JWKS_URI, AUTH_URL, INVENTORY_URL, ORDERS_URL, SERVICE_CLIENTS } from '../support/e2e-env';
import { api } from '../support/http';
import { decodeClaims } from '../support/jwt';
import { connectBus, requestOnBus } from '../support/nats-bus';
import { decodeHeader, type PublicJwk } from './jws-header';
import { login, loginAdmin, REFUSED, registerUser, settlesWithin, verdicts } from './session-probes';

interface TokenAnswer {
  access_token?: string;
  token_type?: string;
  expires_in?: number;
  error?: string;
}

// Global setup starts auth with these clients (AUTH_CLIENTS).
const client = { id: 'orders', secret: SERVICE_CLIENTS.orders.secret };

function tokenRequest(body: Record<string, string>, headers: Record<string, string> = {}) {
  return api<TokenAnswer>('POST', `${AUTH_URL}/oauth/token`, { body, headers });
}

/** RFC 8693: `subjectToken` exchanged by the orders client for `audience` (and `scope`). */
function exchange(subjectToken: string, audience: string, scope?: string) {
  return tokenRequest(
    {
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: subjectToken,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience,
      ...(scope === undefined ? {} : { scope }),
    },
    basic(client.id, client.secret),
  );
}

function basic(id: string, secret: string): Record<string, string> {
  const encoded = Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
  return { authorization: `Basic ${encoded}` };
}

describe('POST /oauth/token grant_type=client_credentials', () => {
  let nc: NatsConnection;

  beforeAll(async () => {
    nc = await connectBus('orders');
  });

  afterAll(async () => {
    await nc.drain();
  });

  it('answers 401 invalid_client for an unknown client, in the body and with Basic', async () => {
    const unknown = { id: `nobody-${randomUUID().slice(0, 8)}`, secret: 'not-a-secret' };

    const posted = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: unknown.id,
      client_secret: unknown.secret,
    });
    const viaBasic = await tokenRequest(
      { grant_type: 'client_credentials' },
      basic(unknown.id, unknown.secret),
    );

    expect(posted.status).toBe(401);
    expect(posted.body).toMatchObject({ error: 'invalid_client' });
    expect(posted.body.access_token).toBeUndefined();
    expect(viaBasic.status).toBe(401);
    expect(viaBasic.body).toMatchObject({ error: 'invalid_client' });
  });

  it('answers 401 invalid_client for a configured client with a wrong secret', async () => {
    const refused = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: client.id,
      client_secret: `${client.secret}-wrong`,
    });

    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: 'invalid_client' });
  });

  it('issues a service token under a published kid that inventory accepts on the bus for its scope alone', async () => {
    const issued = await tokenRequest({ grant_type: 'client_credentials' }, basic(client.id, client.secret));

    expect(issued.status).toBe(200);
    expect(issued.body).toMatchObject({ token_type: 'Bearer', expires_in: expect.any(Number) });
    const token = issued.body.access_token ?? '';
    const header = decodeHeader(token);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    const jwks = await api<{ keys: PublicJwk[] }>('GET', AUTH_JWKS_URI);
    expect(jwks.body.keys.map((key) => key.kid)).toContain(header.kid);
    const claims = decodeClaims(token);
    expect(claims).toMatchObject({ sub: client.id, client_id: client.id, roles: [] });
    expect(claims['sid']).toBeUndefined();
    expect(claims['aud']).not.toContain('auth');
    const authorization = { [MessageHeaders.authorization]: `Bearer ${token}` };
    // its one scope, inventory:release, is what it may do; reading stock needs inventory:read
    const release = await requestOnBus(
      nc,
      InventorySubjects.release,
      { orderId: randomUUID() },
      authorization,
    );
    expect(release.err).toBeUndefined();
    const stock = await requestOnBus(nc, InventorySubjects.stock, { sku: 'sku-apple' }, authorization);
    expect(stock.err).toMatchObject({ status: 403 });
    const reserve = await requestOnBus(
      nc,
      InventorySubjects.reserve,
      { orderId: randomUUID(), items: [{ sku: 'sku-apple', quantity: 1 }] },
      authorization,
    );
    expect(reserve.err).toMatchObject({ status: 403 });
  });

  it("exchanges a user's token for an inventory-only token that dies with the user's session (logout)", async () => {
    const user = await registerUser('exchange');
    const session = await login(user);

    const exchanged = await exchange(session.accessToken, 'inventory');

    expect(exchanged.status).toBe(200);
    const token = exchanged.body.access_token ?? '';
    expect(decodeClaims(token)).toMatchObject({
      sub: user.id,
      aud: ['inventory'],
      act: { sub: client.id },
      sid: decodeClaims(session.accessToken)['sid'],
    });
    // audience-restricted: orders refuses it, inventory takes it on HTTP and on the bus
    expect(await verdicts(nc, token)).toEqual({ ordersHttp: 401, inventoryHttp: 200, bus: 200 });

    const loggedOut = await api('POST', `${AUTH_URL}/auth/logout`, {
      token: session.accessToken,
      body: { refresh_token: session.refreshToken },
    });
    const since = Date.now();

    expect(loggedOut.status).toBe(204);
    await settlesWithin(nc, token, { inventoryHttp: REFUSED.inventoryHttp, bus: REFUSED.bus }, since);
  });

  // SECURITY S11: a token exchanged with a scope authorises exactly that scope, even an admin's
  it("narrows an admin's token exchanged with scope inventory:read: it reads stock, and may not set it", async () => {
    const admin = await loginAdmin();
    const sku = `sku-s11-${randomUUID().slice(0, 8)}`;
    const seeded = await api('PUT', `${INVENTORY_URL}/inventory/${sku}`, {
      token: admin.accessToken,
      body: { available: 7 },
    });
    expect(seeded.status).toBe(200);

    const exchanged = await exchange(admin.accessToken, 'inventory', 'inventory:read');
    expect(exchanged.status).toBe(200);
    const narrowed = exchanged.body.access_token ?? '';
    expect(decodeClaims(narrowed)).toMatchObject({ roles: [], scope: 'inventory:read' });

    const read = await api<{ available: number }>('GET', `${INVENTORY_URL}/inventory/${sku}`, {
      token: narrowed,
    });
    const write = await api('PUT', `${INVENTORY_URL}/inventory/${sku}`, {
      token: narrowed,
      body: { available: 1000 },
    });

    expect(read.status).toBe(200);
    expect(write.status).toBe(403);
    expect(write.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');
    const after = await api<{ available: number }>('GET', `${INVENTORY_URL}/inventory/${sku}`, {
      token: admin.accessToken,
    });
    expect(after.body.available).toBe(7);

    // the same narrowing for orders' audience reads no orders (they need orders:read)
    const forOrders = await exchange(admin.accessToken, 'orders', 'inventory:read');
    expect(forOrders.status).toBe(200);
    const orders = await api('GET', `${ORDERS_URL}/orders`, { token: forOrders.body.access_token ?? '' });
    expect(orders.status).toBe(403);
    expect(orders.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');
  });
});
