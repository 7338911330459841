import { type NatsConnection } from 'nats';

import { AUTH_JWKS_URI } from '../support/e2e-env';
import { api } from '../support/http';
import { connectBus } from '../support/nats-bus';
import { decodeHeader, type PublicJwk } from './jws-header';
import {
  ACCEPTED,
  adminPost,
  login,
  loginAdmin,
  registerUser,
  settlesWithin,
  verdicts,
} from './session-probes';

/**
 * Verifiers refetch the JWKS at most once per second. A fetch just before a rotation (e.g. a
 * service's first token, which loads the JWKS lazily) postpones the new key to the end of that
 * second, leaving the contract's 1 s with almost no margin; waiting it out makes the specs measure
 * the rotation itself (the `auth.keys.rotated` event) rather than the cooldown left by earlier work.
 */
function quietJwks(): Promise<void> {
  return new Promise((done) => setTimeout(done, 1100));
}

// Rotation changes the issuer for every later spec. It stays robust for them: each test only ends
// once orders, inventory and the bus accept new-key tokens, and old-key tokens keep working.
describe('POST /auth/admin/keys/rotate, seen by orders, inventory and the bus', () => {
  let nc: NatsConnection;

  beforeAll(async () => {
    nc = await connectBus('orders');
  });

  afterAll(async () => {
    await nc.drain();
  });

  async function publishedKids(): Promise<string[]> {
    const jwks = await api<{ keys: PublicJwk[] }>('GET', AUTH_JWKS_URI);
    expect(jwks.status).toBe(200);
    return jwks.body.keys.map((key) => key.kid);
  }

  it('signs new tokens with the new kid, accepted everywhere within 1 s without restart; older tokens keep working', async () => {
    const admin = await loginAdmin();
    const user = await registerUser('rotation');
    const before = await login(user);
    const oldKid = decodeHeader(before.accessToken).kid;
    expect(await verdicts(nc, before.accessToken)).toEqual(ACCEPTED);
    await quietJwks();

    const rotated = await adminPost<{ kid: string }>(admin, '/auth/admin/keys/rotate');
    const since = Date.now();

    expect(rotated.status).toBe(201);
    expect(rotated.body).toEqual({ kid: expect.any(String) });
    expect(rotated.body.kid).not.toBe(oldKid);
    const after = await login(user);
    expect(decodeHeader(after.accessToken)).toMatchObject({
      kid: rotated.body.kid,
      alg: 'ES256',
      typ: 'at+jwt',
    });
    await settlesWithin(nc, after.accessToken, ACCEPTED, since);
    expect(await verdicts(nc, before.accessToken)).toEqual(ACCEPTED);
    expect(await publishedKids()).toEqual(expect.arrayContaining([oldKid, rotated.body.kid]));
  });

  it('rotates twice: tokens of all three keys are accepted everywhere, each new one within 1 s', async () => {
    const admin = await loginAdmin();
    const user = await registerUser('rotation-twice');
    const first = await login(user);
    const issued = [first.accessToken];

    for (const round of [1, 2]) {
      await quietJwks();
      const rotated = await adminPost<{ kid: string }>(admin, '/auth/admin/keys/rotate');
      const since = Date.now();
      expect(rotated.status).toBe(201);
      const next = await login(user);
      expect({ round, kid: decodeHeader(next.accessToken).kid }).toEqual({ round, kid: rotated.body.kid });
      await settlesWithin(nc, next.accessToken, ACCEPTED, since);
      issued.push(next.accessToken);
    }

    for (const token of issued) expect(await verdicts(nc, token)).toEqual(ACCEPTED);
    const kids = issued.map((token) => decodeHeader(token).kid);
    expect(new Set(kids).size).toBe(3);
    expect(await publishedKids()).toEqual(expect.arrayContaining(kids));
  });

  it('answers 403 insufficient_scope to a customer asking for a rotation, and rotates nothing', async () => {
    const customer = await login(await registerUser('rotation-customer'));
    const kidsBefore = await publishedKids();

    const refused = await adminPost(customer, '/auth/admin/keys/rotate');

    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
    expect(await publishedKids()).toEqual(kidsBefore);
  });
});
