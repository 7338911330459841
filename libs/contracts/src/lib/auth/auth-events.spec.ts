import { parseRevocationKey, type RevocationEntry, revocationKey } from './auth-events';

describe('revocation bucket keys', () => {
  it('gives each not-before of a subject a key of its own, and one key per jti or sid', () => {
    const user = '6f1c9a52-3b7e-4d2a-9c11-0e5b8f7d2a10';

    expect(revocationKey({ kind: 'sub', id: user, at: 1_700_000_000 })).toBe(`sub.${user}.1700000000`);
    expect(revocationKey({ kind: 'sub', id: user, at: 1_700_000_001 })).toBe(`sub.${user}.1700000001`);
    expect(revocationKey({ kind: 'sid', id: 'session-1', at: 1_700_000_000 })).toBe('sid.session-1');
    expect(revocationKey({ kind: 'jti', id: 'token-1', at: 1_700_000_000 })).toBe('jti.token-1');
  });

  it.each<RevocationEntry>([
    { kind: 'sub', id: '6f1c9a52-3b7e-4d2a-9c11-0e5b8f7d2a10', at: 1_700_000_000 },
    { kind: 'sid', id: 'session-1', at: 5 },
    { kind: 'jti', id: 'token.with.dots', at: 5 },
  ])('reads back what $kind key names', (entry) => {
    const parsed = parseRevocationKey(revocationKey(entry));

    expect(parsed).toEqual(entry.kind === 'sub' ? entry : { kind: entry.kind, id: entry.id });
  });

  it('reads a subject key written without its not-before, and nothing from a foreign key', () => {
    expect(parseRevocationKey('sub.blocked-user')).toEqual({ kind: 'sub', id: 'blocked-user' });
    expect(parseRevocationKey('usr.someone')).toBeUndefined();
    expect(parseRevocationKey('sub')).toBeUndefined();
    expect(parseRevocationKey('jti.')).toBeUndefined();
  });
});
