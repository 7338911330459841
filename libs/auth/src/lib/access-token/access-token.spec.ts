import type { JWTPayload } from 'jose';

import { toPrincipal } from './access-token';

// a payload as JSON.parse may give it: any member of any JSON type
const claims = (extra: Record<string, unknown> = {}): JWTPayload => ({
  sub: 'user-1',
  jti: 'token-1',
  iat: 1000,
  exp: 1900,
  aud: ['orders', 'inventory'],
  roles: ['customer'],
  ...extra,
});

describe(toPrincipal.name, () => {
  it('maps the claims to a frozen principal, keeping every role the issuer signed', () => {
    const principal = toPrincipal(
      claims({ aud: 'orders', roles: ['admin', 'root'], scope: 'a  b', sid: 's-1', act: { sub: 'svc' } }),
    );

    expect(principal).toEqual({
      subject: 'user-1',
      roles: ['admin', 'root'],
      scopes: ['a', 'b'],
      clientId: '',
      sessionId: 's-1',
      tokenId: 'token-1',
      audience: ['orders'],
      issuedAt: 1000,
      expiresAt: 1900,
      actor: 'svc',
    });
    for (const part of [principal, principal.roles, principal.scopes, principal.audience]) {
      expect(Object.isFrozen(part)).toBe(true);
    }
  });

  it.each([
    ['an aud member that is not a string', { aud: ['orders', 7] }],
    ['a role that is not a string', { roles: ['customer', null] }],
    ['roles that are not an array', { roles: 'customer' }],
    ['a non-string sid', { sid: 5 }],
    ['an act without sub', { act: {} }],
    ['an empty sub', { sub: '' }],
  ])('refuses %s', (_case, extra) => {
    expect(() => toPrincipal(claims(extra))).toThrow(expect.objectContaining({ code: 'invalid_token' }));
  });
});
