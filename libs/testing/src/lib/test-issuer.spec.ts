import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';

import { createTestIssuer } from './test-issuer';

describe('createTestIssuer', () => {
  it('mints contract-shaped ES256 access tokens that verify against its JWKS', async () => {
    const issuer = createTestIssuer();

    const token = issuer.mintAccessToken();
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(issuer.jwks()), {
      algorithms: ['ES256'],
      typ: 'at+jwt',
      issuer: issuer.issuer,
      audience: 'orders',
    });

    expect(protectedHeader).toEqual({ alg: 'ES256', kid: issuer.kid, typ: 'at+jwt' });
    expect(payload).toEqual(
      expect.objectContaining({
        sub: 'user-1',
        aud: ['orders', 'inventory'],
        client_id: 'relay-web',
        roles: ['customer'],
        scope: 'orders:read orders:write inventory:read',
        jti: expect.any(String),
        sid: expect.any(String),
      }),
    );
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(900);
  });

  it('applies overrides and removes fields set to undefined', () => {
    const issuer = createTestIssuer();

    const token = issuer.mintAccessToken({
      claims: { sub: 'u-2', jti: undefined },
      header: { typ: undefined, x: 1 },
    });
    const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<
      string,
      unknown
    >;

    expect(payload['sub']).toBe('u-2');
    expect('jti' in payload).toBe(false);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid: issuer.kid, x: 1 });
  });

  it('publishes public keys only, each with kid, alg and use', () => {
    const issuer = createTestIssuer();
    issuer.rotate();

    const { keys } = issuer.jwks();

    expect(keys).toHaveLength(2);
    for (const key of keys) {
      expect(key).toEqual(expect.objectContaining({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' }));
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key).not.toHaveProperty(member);
    }
    expect(keys[1].kid).toBe(issuer.kid);
  });

  it('serves the JWKS over HTTP and restarts on the same port', async () => {
    const issuer = createTestIssuer();
    const server = await issuer.serveJwks();
    try {
      const first = (await (await fetch(server.url)).json()) as { keys: unknown[] };
      await server.stop();
      await expect(fetch(server.url)).rejects.toThrow();
      await server.start();
      const token = issuer.mintAccessToken();
      const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(server.url)), {
        algorithms: ['ES256'],
      });

      expect(first.keys).toHaveLength(1);
      expect(payload.sub).toBe('user-1');
      expect(server.requests).toBe(2);
    } finally {
      await server.stop();
    }
  });
});
