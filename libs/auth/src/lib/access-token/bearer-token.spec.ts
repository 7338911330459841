import { AuthError } from '../errors/auth.error';
import { assertCompactJws, readBearerToken } from './bearer-token';

const MAX = 8192;
const TOKEN = 'aGVhZGVy.cGF5bG9hZA.c2ln';

function codeOf(work: () => unknown): string | undefined {
  try {
    work();
    return undefined;
  } catch (error) {
    return error instanceof AuthError ? error.code : 'not an AuthError';
  }
}

describe(readBearerToken.name, () => {
  it.each([
    ['Bearer x.y.z', 'x.y.z'],
    ['bearer x.y.z', 'x.y.z'],
    ['BEARER x.y.z', 'x.y.z'],
    ['Bearer   x.y.z', 'x.y.z'],
    ['Bearer x.y.z  ', 'x.y.z'],
  ])('reads the token of %j', (header, token) => {
    expect(readBearerToken(header, MAX)).toBe(token);
  });

  it.each([
    [undefined, 'missing_token'],
    ['', 'missing_token'],
    ['Bearer', 'invalid_token'],
    ['Bearer ', 'invalid_token'],
    ['Bearerx.y.z', 'invalid_token'],
    ['Basic dXNlcjpwYXNz', 'invalid_token'],
    ['Bearer a b', 'invalid_token'],
    [' Bearer x.y.z', 'invalid_token'],
    ['Bearer\tx.y.z', 'invalid_token'],
    [['Bearer a.b.c', 'Bearer d.e.f'], 'invalid_token'],
  ])('refuses %j with %s', (header, code) => {
    expect(codeOf(() => readBearerToken(header, MAX))).toBe(code);
  });

  it('refuses an oversized header before looking at its scheme or shape', () => {
    expect(codeOf(() => readBearerToken(`Bearer ${'x'.repeat(MAX + 20)}`, MAX))).toBe('token_too_large');
    expect(codeOf(() => readBearerToken(`Basic ${'x'.repeat(MAX + 100)}`, MAX))).toBe('token_too_large');
  });

  it('leaves the exact token-size cap to assertCompactJws', () => {
    const token = readBearerToken(`Bearer ${'x'.repeat(MAX + 1)}`, MAX);

    expect(codeOf(() => assertCompactJws(token, MAX))).toBe('token_too_large');
  });
});

describe(assertCompactJws.name, () => {
  it('accepts three base64url segments', () => {
    expect(() => assertCompactJws(TOKEN, MAX)).not.toThrow();
  });

  it.each([
    ['two segments', 'a.b'],
    ['four segments', `${TOKEN}.d`],
    ['five segments (JWE)', 'a.b.c.d.e'],
    ['an empty signature', 'a.b.'],
    ['padding', 'a.b.c='],
    ['standard base64 characters', 'a+b.c/d.e'],
    ['JSON serialisation', '{"protected":"a","payload":"b","signature":"c"}'],
    ['whitespace', 'a.b .c'],
  ])('refuses %s', (_reason, token) => {
    expect(codeOf(() => assertCompactJws(token, MAX))).toBe('invalid_token');
  });

  it('counts bytes, not characters, against the cap', () => {
    expect(codeOf(() => assertCompactJws('a.b.c', 5))).toBeUndefined();
    expect(codeOf(() => assertCompactJws('a.b.cd', 5))).toBe('token_too_large');
    expect(codeOf(() => assertCompactJws('a.b.é', 5))).toBe('token_too_large');
  });
});
