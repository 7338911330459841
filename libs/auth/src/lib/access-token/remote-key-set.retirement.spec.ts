import { createTestIssuer, type JwksServer, serveJwks } from '@relay/testing';
import { jwtVerify } from 'jose';

import { RemoteKeySet } from './remote-key-set';

// The issuer retires a key by time alone (its tokens have expired), announcing nothing: a verifier
// must stop trusting it without a restart or another rotation, or a leaked key verifies for ever.
describe('RemoteKeySet key retirement', () => {
  const issuer = createTestIssuer();
  const retired = new Set<string>();
  let jwks: JwksServer;

  beforeAll(async () => {
    jwks = await serveJwks(() => ({ keys: issuer.jwks().keys.filter((key) => !retired.has(key.kid ?? '')) }));
  });

  afterAll(async () => {
    await jwks?.stop();
  });

  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

  it('drops a key the issuer no longer publishes once the set is older than its maximum age', async () => {
    let changes = 0;
    const keys = new RemoteKeySet(new URL(jwks.url), 100, () => (changes += 1), 300);
    const verify = (token: string): Promise<unknown> => jwtVerify(token, keys.getKey);
    const oldKid = issuer.kid;
    const signedWithOld = issuer.mintAccessToken();
    await expect(verify(signedWithOld)).resolves.toBeDefined();

    // rotated: both keys published, and the new kid fetched once
    issuer.rotate();
    const signedWithNew = issuer.mintAccessToken();
    await sleep(150); // past the unknown-kid cooldown
    await expect(verify(signedWithNew)).resolves.toBeDefined();
    // retired: no longer published, and still held while the set is young
    retired.add(oldKid);
    await expect(verify(signedWithOld)).resolves.toBeDefined();
    const fetchesBefore = keys.fetches;

    await sleep(350);
    // the first check past the maximum age uses the set held and fetches a new one meanwhile
    await expect(verify(signedWithNew)).resolves.toBeDefined();
    await sleep(100);

    expect(keys.fetches).toBe(fetchesBefore + 1);
    expect(changes).toBe(2);
    await expect(verify(signedWithOld)).rejects.toThrow();
    await expect(verify(signedWithNew)).resolves.toBeDefined();
  });

  it('keeps a set younger than its maximum age without fetching', async () => {
    const keys = new RemoteKeySet(new URL(jwks.url), 100, () => undefined, 60_000);
    const token = issuer.mintAccessToken();

    for (let check = 0; check < 5; check += 1) {
      await expect(jwtVerify(token, keys.getKey)).resolves.toBeDefined();
    }

    expect(keys.fetches).toBe(1);
  });
});
