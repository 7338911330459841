import { randomUUID } from 'node:crypto';

import { type NatsConnection } from 'nats';

import { InventorySubjects, MessageHeaders, type StockLevel } from '@relay/contracts';

import { AUTH_URL, INVENTORY_URL, ORDERS_URL } from '../support/e2e-env';
import { api } from '../support/http';
import { decodeClaims } from '../support/jwt';
import { connectBus, requestOnBus } from '../support/nats-bus';
import { ACCEPTED, login, REFUSED, refresh, registerUser, settlesWithin, verdicts } from './session-probes';
import { withMalleatedSignature, withNonCanonicalSignatureEnding } from './token-variants';

describe('POST /auth/logout, seen by orders, inventory and the bus', () => {
  let nc: NatsConnection;

  beforeAll(async () => {
    nc = await connectBus('orders');
  });

  afterAll(async () => {
    await nc.drain();
  });

  it('refuses the access token everywhere within 1 s and kills the refresh token', async () => {
    const user = await registerUser('logout');
    const session = await login(user);
    expect(await verdicts(nc, session.accessToken)).toEqual(ACCEPTED);

    const loggedOut = await api('POST', `${AUTH_URL}/auth/logout`, {
      token: session.accessToken,
      body: { refresh_token: session.refreshToken },
    });
    const since = Date.now();

    expect(loggedOut.status).toBe(204);
    await settlesWithin(nc, session.accessToken, REFUSED, since);
    expect(await verdicts(nc, session.accessToken)).toEqual(REFUSED);
    expect((await refresh(session.refreshToken)).status).toBe(401);
  });

  it('answers 401 with WWW-Authenticate invalid_token for the logged-out token', async () => {
    const user = await registerUser('logout-header');
    const session = await login(user);
    const loggedOut = await api('POST', `${AUTH_URL}/auth/logout`, {
      token: session.accessToken,
      body: { refresh_token: session.refreshToken },
    });
    expect(loggedOut.status).toBe(204);
    await settlesWithin(nc, session.accessToken, REFUSED, Date.now());

    const me = await api('GET', `${AUTH_URL}/auth/me`, { token: session.accessToken });

    expect(me.status).toBe(401);
    expect(me.headers.get('www-authenticate')).toMatch(/^Bearer\b.*error="invalid_token"/);
    expect(JSON.stringify(me.body ?? '')).not.toContain(session.accessToken);
  });

  it("ends only that login session: the same user's other session keeps working", async () => {
    const user = await registerUser('logout-other');
    const ending = await login(user);
    const other = await login(user);
    expect(decodeClaims(ending.accessToken)['sid']).not.toEqual(decodeClaims(other.accessToken)['sid']);

    const loggedOut = await api('POST', `${AUTH_URL}/auth/logout`, {
      token: ending.accessToken,
      body: { refresh_token: ending.refreshToken },
    });
    expect(loggedOut.status).toBe(204);
    await settlesWithin(nc, ending.accessToken, REFUSED, Date.now());

    expect(await verdicts(nc, other.accessToken)).toEqual(ACCEPTED);
    const renewed = await refresh(other.refreshToken);
    expect(renewed.status).toBe(200);
    expect(await verdicts(nc, renewed.body.access_token)).toEqual(ACCEPTED);
  });

  it('refuses a logout whose refresh token belongs to another session, and ends nothing', async () => {
    const user = await registerUser('logout-mismatch');
    const first = await login(user);
    const second = await login(user);

    const refused = await api('POST', `${AUTH_URL}/auth/logout`, {
      token: first.accessToken,
      body: { refresh_token: second.refreshToken },
    });

    expect(refused.status).toBe(401);
    expect(await verdicts(nc, first.accessToken)).toEqual(ACCEPTED);
    expect(await verdicts(nc, second.accessToken)).toEqual(ACCEPTED);
  });

  it('changes nothing for a logged-out token: no order, no reservation on the bus', async () => {
    const user = await registerUser('logout-writes');
    const session = await login(user);
    const witness = await login(user);
    const stockOf = async (): Promise<number> => {
      const stock = await api<StockLevel>('GET', `${INVENTORY_URL}/inventory/sku-apple`, {
        token: witness.accessToken,
      });
      expect(stock.status).toBe(200);
      return stock.body.available;
    };
    const loggedOut = await api('POST', `${AUTH_URL}/auth/logout`, {
      token: session.accessToken,
      body: { refresh_token: session.refreshToken },
    });
    expect(loggedOut.status).toBe(204);
    await settlesWithin(nc, session.accessToken, REFUSED, Date.now());
    const before = await stockOf();

    const ordered = await api('POST', `${ORDERS_URL}/orders`, {
      token: session.accessToken,
      body: { items: [{ sku: 'sku-apple', quantity: 1 }] },
    });
    const reserved = await requestOnBus(
      nc,
      InventorySubjects.reserve,
      { orderId: randomUUID(), items: [{ sku: 'sku-apple', quantity: 1 }] },
      { [MessageHeaders.authorization]: `Bearer ${session.accessToken}` },
    );

    expect(ordered.status).toBe(401);
    expect(reserved.err).toMatchObject({ status: 401 });
    expect(reserved.response).toBeUndefined();
    expect(await stockOf()).toBe(before);
    const listed = await api<unknown[]>('GET', `${ORDERS_URL}/orders`, { token: witness.accessToken });
    expect(listed.body).toEqual([]);
  });

  it.each([
    ['its signature re-encoded as (r, n - s)', withMalleatedSignature],
    ['a non-canonical last signature character', withNonCanonicalSignatureEnding],
  ])(
    'refuses a logged-out token re-sent with %s (revocation by jti, not by token bytes)',
    async (_, variant) => {
      const user = await registerUser('logout-variant');
      const session = await login(user);
      const reencoded = variant(session.accessToken);
      expect(reencoded).not.toBe(session.accessToken);
      expect(decodeClaims(reencoded)).toEqual(decodeClaims(session.accessToken));

      const loggedOut = await api('POST', `${AUTH_URL}/auth/logout`, {
        token: session.accessToken,
        body: { refresh_token: session.refreshToken },
      });
      expect(loggedOut.status).toBe(204);
      await settlesWithin(nc, session.accessToken, REFUSED, Date.now());

      expect(await verdicts(nc, reencoded)).toEqual(REFUSED);
    },
  );
});
