import { AUTH_ISSUER, AUTH_JWKS_URI, AUTH_URL } from '../support/e2e-env';
import { api } from '../support/http';
import { decodeClaims } from '../support/jwt';
import { decodeHeader, type PublicJwk } from './jws-header';
import { login, registerUser } from './session-probes';

interface Discovery {
  issuer: string;
  jwks_uri: string;
  token_endpoint: string;
}

// RFC 7518 §6.2.2 (d), §6.3.2 (p, q, dp, dq, qi, oth), §6.4 (k): private or symmetric material
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

describe('discovery and JWKS, seen from outside', () => {
  it('publishes issuer = AUTH_ISSUER, a jwks_uri that resolves and a token endpoint', async () => {
    const discovery = await api<Discovery>('GET', `${AUTH_URL}/.well-known/openid-configuration`);

    expect(discovery.status).toBe(200);
    expect(discovery.body.issuer).toBe(AUTH_ISSUER);
    expect(discovery.body.jwks_uri).toBe(AUTH_JWKS_URI);
    expect(discovery.body.token_endpoint).toBe(`${AUTH_ISSUER}/oauth/token`);
    const jwks = await api<{ keys: PublicJwk[] }>('GET', discovery.body.jwks_uri);
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys.length).toBeGreaterThan(0);
  });

  it('lists public signing keys only, each with kid, alg and use "sig"', async () => {
    const jwks = await api<{ keys: PublicJwk[] }>('GET', AUTH_JWKS_URI);

    expect(jwks.status).toBe(200);
    for (const key of jwks.body.keys) {
      expect(key).toMatchObject({
        kid: expect.any(String),
        alg: 'ES256',
        use: 'sig',
        kty: 'EC',
        crv: 'P-256',
      });
      expect(key.kid.length).toBeGreaterThan(0);
      expect(Object.keys(key).filter((member) => PRIVATE_MEMBERS.includes(member))).toEqual([]);
    }
    const kids = jwks.body.keys.map((key) => key.kid);
    expect(new Set(kids).size).toBe(kids.length);
  });

  it('issues user tokens whose iss is the discovery issuer and whose kid is in the JWKS', async () => {
    const session = await login(await registerUser('discovery'));
    const discovery = await api<Discovery>('GET', `${AUTH_URL}/.well-known/openid-configuration`);
    const jwks = await api<{ keys: PublicJwk[] }>('GET', discovery.body.jwks_uri);

    const header = decodeHeader(session.accessToken);

    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });
    expect(jwks.body.keys.map((key) => key.kid)).toContain(header.kid);
    expect(decodeClaims(session.accessToken)['iss']).toBe(discovery.body.issuer);
    expect(decodeClaims(session.accessToken)['aud']).toEqual(expect.arrayContaining(['orders', 'inventory']));
  });
});
