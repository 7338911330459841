import { AuthError, type Principal } from '@relay/auth';
import { ServiceScopes } from '@relay/contracts';

import { releaseCaller, reserveCaller } from './stock-callers';

function principal(overrides: Partial<Principal>): Principal {
  return {
    subject: 'alice',
    roles: ['customer'],
    scopes: [],
    clientId: 'relay-web',
    tokenId: 'jti',
    audience: ['inventory'],
    issuedAt: 0,
    expiresAt: 0,
    ...overrides,
  };
}

describe(releaseCaller.name, () => {
  it('lets a customer release only their own orders', () => {
    expect(releaseCaller(principal({}))).toEqual({ userId: 'alice', canReleaseAny: false });
  });

  it('lets an admin release any order', () => {
    expect(releaseCaller(principal({ subject: 'root', roles: ['admin'] }))).toEqual({
      userId: 'root',
      canReleaseAny: true,
    });
  });

  it('lets a service token with scope inventory:release release any order', () => {
    const service = principal({
      subject: 'orders',
      clientId: 'orders',
      roles: [],
      scopes: [ServiceScopes.inventoryRelease],
    });

    expect(releaseCaller(service)).toEqual({ userId: 'orders', canReleaseAny: true });
  });

  it.each([
    [
      'a service token without the scope',
      principal({ subject: 'orders', roles: [], scopes: ['inventory:read'] }),
    ],
    ['a token with neither role nor scope', principal({ roles: [], scopes: [] })],
  ])('refuses %s with 403', (_case, caller) => {
    expect(() => releaseCaller(caller)).toThrow(expect.objectContaining({ status: 403 }));
  });

  it('refuses a call without a principal with 401', () => {
    expect(() => releaseCaller(undefined)).toThrow(AuthError);
    expect(() => releaseCaller(undefined)).toThrow(expect.objectContaining({ status: 401 }));
  });
});

describe(reserveCaller.name, () => {
  it('reserves as the token subject and refuses a call without a principal', () => {
    expect(reserveCaller(principal({ roles: ['admin'] }))).toEqual({ userId: 'alice', canReleaseAny: true });
    expect(() => reserveCaller(undefined)).toThrow(expect.objectContaining({ status: 401 }));
  });
});
