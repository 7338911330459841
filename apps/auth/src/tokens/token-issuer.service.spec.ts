import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';

import { type Database, openDatabase } from '@relay/database';

import { AUTH_MIGRATIONS } from '../database/migrations';
import { SigningKeysRepository } from '../keys/signing-keys.repository';
import { SigningKeysService } from '../keys/signing-keys.service';
import { testConfigService } from '../testing/test-config';
import { ADMIN_ROLES, type User } from '../users/user';
import { TokenIssuer } from './token-issuer.service';

const user: User = {
  id: '6f1c2a9e-3a0b-4d5e-9f10-1a2b3c4d5e6f',
  email: 'admin@example.com',
  passwordHash: 'unused',
  roles: ADMIN_ROLES,
  blockedAt: null,
};

describe(TokenIssuer.name, () => {
  let db: Database;
  let keys: SigningKeysService;
  let issuer: TokenIssuer;

  beforeAll(async () => {
    db = await openDatabase({ migrations: AUTH_MIGRATIONS });
    const config = testConfigService({ ACCESS_TOKEN_TTL: '600', AUTH_ISSUER: 'https://auth.relay.test' });
    keys = new SigningKeysService(new SigningKeysRepository(db), config);
    await keys.onModuleInit();
    issuer = new TokenIssuer(keys, config);
  });

  afterAll(async () => {
    await db.close();
  });

  it('signs ES256 with header exactly {alg, kid, typ: at+jwt}', async () => {
    const { accessToken } = await issuer.issueForUser(user, 'session-1');

    const header = decodeProtectedHeader(accessToken);

    expect(header).toEqual({ alg: 'ES256', kid: (await keys.signingKey()).kid, typ: 'at+jwt' });
  });

  it('carries exactly the contract claims, with exp - iat = expires_in', async () => {
    const { accessToken, expiresIn, tokenId } = await issuer.issueForUser(user, 'session-1');

    const claims = decodeJwt(accessToken);

    expect(Object.keys(claims)).toEqual([
      'iss',
      'sub',
      'aud',
      'exp',
      'iat',
      'jti',
      'client_id',
      'sid',
      'roles',
      'scope',
    ]);
    expect(claims).toEqual({
      iss: 'https://auth.relay.test',
      sub: user.id,
      aud: ['orders', 'inventory'],
      exp: expect.any(Number),
      iat: expect.any(Number),
      jti: tokenId,
      client_id: 'relay-web',
      sid: 'session-1',
      roles: ['admin', 'customer'],
      scope: 'orders:read orders:write inventory:read inventory:write auth:admin',
    });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(expiresIn);
    expect(expiresIn).toBe(600);
  });

  it('verifies against the published JWKS and gives every token its own jti', async () => {
    const first = await issuer.issueForUser(user, 'session-1');
    const second = await issuer.issueForUser(user, 'session-1');

    const { payload } = await jwtVerify(first.accessToken, createLocalJWKSet(await keys.jwks()), {
      algorithms: ['ES256'],
      typ: 'at+jwt',
      issuer: 'https://auth.relay.test',
      audience: 'orders',
    });

    expect(payload.sub).toBe(user.id);
    expect(first.tokenId).not.toBe(second.tokenId);
  });

  it('never lets a token outlive notAfter', async () => {
    const notAfter = Math.floor(Date.now() / 1000) + 30;

    const issued = await issuer.issue(
      { sub: user.id, aud: ['inventory'], clientId: 'orders', roles: [], scope: '', act: { sub: 'orders' } },
      { notAfter },
    );

    expect(decodeJwt(issued.accessToken).exp).toBe(notAfter);
    expect(issued.expiresIn).toBeLessThanOrEqual(30);
    expect(decodeJwt(issued.accessToken).act).toEqual({ sub: 'orders' });
  });
});
