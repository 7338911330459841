import { compactDecrypt } from 'jose';

import { createTestIssuer } from '@relay/testing';

import { forgedTokens } from './index';
import { buildTokenCases } from './token-cases';

const TOLERANCE_SECONDS = 30;

function claim(authorization: string | undefined, name: 'nbf' | 'iat'): number {
  const payload = authorization?.replace(/^Bearer /, '').split('.')[1] ?? '';
  return (JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, number>)[name];
}

describe(forgedTokens.name, () => {
  const issuer = createTestIssuer();
  afterEach(() => jest.restoreAllMocks());

  // minted in the last millisecond of a second, checked by the app in the first of the next one
  it.each(['nbf', 'iat'] as const)(
    'keeps "%s 31 s in the future" beyond the tolerance when the app reads its clock a second later',
    (name) => {
      const mintedAtMs = 1_800_000_000_999;
      jest.spyOn(Date, 'now').mockReturnValue(mintedAtMs);
      const row = forgedTokens(issuer).find(({ reason }) => reason === `has ${name} 31 s in the future`);

      const value = claim(row?.authorization(), name);

      const checkedAtSeconds = Math.floor((mintedAtMs + 2) / 1000);
      expect(value - checkedAtSeconds).toBeGreaterThan(TOLERANCE_SECONDS);
      expect(value - Math.floor(mintedAtMs / 1000)).toBeGreaterThan(TOLERANCE_SECONDS);
    },
  );
});

describe('the token table’s JWE row', () => {
  // not a placeholder: the issuer's private key opens it, so a verifier that decrypted JWEs would
  // find the claims inside (SECURITY T11: never auto-accept a JWE)
  it('is a JWE that decrypts, with the issuer’s private key, to the claims of a valid token', async () => {
    const issuer = createTestIssuer();
    const now = Math.floor(Date.now() / 1000);
    const rows = buildTokenCases(issuer, now, () => 'http://127.0.0.1:9/jwks.json');
    const jwe = rows
      .find(({ reason }) => reason.startsWith('is a real JWE'))
      ?.authorization()
      ?.replace(/^Bearer /, '');

    const { plaintext, protectedHeader } = await compactDecrypt(jwe ?? '', issuer.privateKey);

    expect(protectedHeader).toMatchObject({ alg: 'ECDH-ES', enc: 'A256GCM', kid: issuer.kid });
    expect(JSON.parse(new TextDecoder().decode(plaintext))).toMatchObject({ iat: now, exp: now + 900 });
  });
});
