import { generateKeyPairSync, type KeyObject } from 'node:crypto';

import { type RevocationEntry, revocationKey } from '@relay/contracts';
import { base64url, signCompactEs256, type TestIssuer } from '@relay/testing';

import { decode, encryptTo, hs256, malleate, parts, P256_N } from './token-forgery';

/** One row of the acceptance table. */
export interface TokenCase {
  reason: string;
  /** The `Authorization` header value (undefined: no header); some rows need servers started later. */
  authorization: () => string | undefined;
  verdict: 'accept' | 'refuse';
  /** Subject the handler must see when accepted. */
  subject?: string;
}

/** Revocation entries the table expects to be in the bucket before the app starts. */
export function revocationFixtures(now: number): { key: string; value: RevocationEntry }[] {
  const entries: RevocationEntry[] = [
    { kind: 'jti', id: 'revoked-jti', at: now },
    { kind: 'sid', id: 'revoked-sid', at: now },
    { kind: 'sub', id: 'blocked-user', at: now - 60 },
  ];
  return entries.map((value) => ({ key: revocationKey(value), value }));
}

/** Builds the SECURITY.md T1–T22 table (plus revocation rows) against `issuer`, with time pinned at `now`. */
export function buildTokenCases(issuer: TestIssuer, now: number, attackerJwksUrl: () => string): TokenCase[] {
  const bearer = (token: string): string => `Bearer ${token}`;
  const mint = (
    claims: Record<string, unknown> = {},
    header: Record<string, unknown> = {},
    key?: KeyObject,
  ): string =>
    issuer.mintAccessToken({
      claims: { iat: now, exp: now + 900, ...claims },
      header,
      ...(key ? { key } : {}),
    });
  const valid = mint();
  const [validHeader, validPayload, validSignature] = parts(valid);
  const claims = decode(validPayload);
  const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const attackerJwk = attacker.publicKey.export({ format: 'jwk' });
  const pem = issuer.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const der = issuer.publicKey.export({ type: 'spki', format: 'der' });
  const jwk = issuer.publicJwk;
  const rawPoint = Buffer.concat([
    Buffer.from([4]),
    Buffer.from(jwk.x ?? '', 'base64url'),
    Buffer.from(jwk.y ?? '', 'base64url'),
  ]);
  const hsHeader = { alg: 'HS256', kid: issuer.kid, typ: 'at+jwt' };
  const refuse = (reason: string, authorization: string | undefined | (() => string)): TokenCase => ({
    reason,
    authorization: typeof authorization === 'function' ? authorization : () => authorization,
    verdict: 'refuse',
  });
  const accept = (reason: string, token: string | (() => string), subject = 'user-1'): TokenCase => ({
    reason,
    authorization: () => bearer(typeof token === 'function' ? token() : token),
    verdict: 'accept',
    subject,
  });
  const noneCases = ['none', 'None', 'NONE', 'nOnE'].flatMap((alg) => {
    const header = base64url(JSON.stringify({ alg, kid: issuer.kid, typ: 'at+jwt' }));
    return [
      refuse(`is alg ${alg} with an empty signature`, bearer(`${header}.${validPayload}.`)),
      refuse(
        `is alg ${alg} keeping the original signature`,
        bearer(`${header}.${validPayload}.${validSignature}`),
      ),
    ];
  });
  const tamper = (change: Record<string, unknown>): string =>
    bearer(`${validHeader}.${base64url(JSON.stringify({ ...claims, ...change }))}.${validSignature}`);
  const big = 'x'.repeat(6400);
  return [
    accept('is a valid contract token', valid),
    ...noneCases,
    refuse('is HS256 keyed with the PEM public key', bearer(hs256(hsHeader, claims, pem))),
    refuse(
      'is HS256 keyed with the PEM public key without newline',
      bearer(hs256(hsHeader, claims, pem.trimEnd())),
    ),
    refuse('is HS256 keyed with a whitespace-prefixed PEM', bearer(hs256(hsHeader, claims, ` ${pem}`))),
    refuse('is HS256 keyed with the DER public key', bearer(hs256(hsHeader, claims, der))),
    refuse('is HS256 keyed with the JWK JSON', bearer(hs256(hsHeader, claims, JSON.stringify(jwk)))),
    refuse('is HS256 keyed with the raw EC point', bearer(hs256(hsHeader, claims, rawPoint))),
    refuse('has a tampered subject under the original signature', tamper({ sub: 'admin-user' })),
    refuse('has tampered roles under the original signature', tamper({ roles: ['admin'] })),
    refuse('has its signature stripped', bearer(`${validHeader}.${validPayload}.`)),
    refuse('has a truncated signature', bearer(valid.slice(0, -10))),
    refuse(
      'carries the signature of another token',
      bearer(`${validHeader}.${validPayload}.${parts(mint())[2]}`),
    ),
    refuse(
      'has the psychic signature r=s=0',
      bearer(`${validHeader}.${validPayload}.${base64url(Buffer.alloc(64))}`),
    ),
    refuse(
      'has the signature r=s=n',
      bearer(`${validHeader}.${validPayload}.${base64url(Buffer.from(P256_N + P256_N, 'hex'))}`),
    ),
    refuse(
      'embeds an attacker jwk under the real kid',
      bearer(mint({}, { jwk: attackerJwk }, attacker.privateKey)),
    ),
    refuse(
      'embeds an attacker jwk under a new kid',
      bearer(mint({}, { jwk: attackerJwk, kid: 'attacker' }, attacker.privateKey)),
    ),
    refuse('names an attacker jku', () =>
      bearer(mint({}, { jku: attackerJwksUrl(), kid: 'attacker' }, attacker.privateKey)),
    ),
    refuse('names an attacker x5u', () =>
      bearer(mint({}, { x5u: attackerJwksUrl(), kid: 'attacker' }, attacker.privateKey)),
    ),
    refuse(
      'carries an x5c chain',
      bearer(mint({}, { x5c: [der.toString('base64')], kid: 'attacker' }, attacker.privateKey)),
    ),
    accept('is valid and names a jku that is ignored', () => mint({}, { jku: attackerJwksUrl() })),
    refuse(
      'has a path-traversal kid signed with an empty HMAC key',
      bearer(hs256({ ...hsHeader, kid: '../../../../dev/null' }, claims, '')),
    ),
    refuse(
      'has an SQL-injection kid',
      bearer(mint({}, { kid: "' UNION SELECT 'k'--" }, attacker.privateKey)),
    ),
    refuse(
      'names an unknown crit header',
      bearer(mint({}, { crit: ['urn:relay:unknown'], 'urn:relay:unknown': true })),
    ),
    refuse('uses b64:false', bearer(mint({}, { b64: false, crit: ['b64'] }))),
    refuse(
      'is a nested JWT (cty JWT)',
      bearer(
        signCompactEs256(
          { alg: 'ES256', kid: issuer.kid, typ: 'at+jwt', cty: 'JWT' },
          JSON.stringify(valid),
          issuer.privateKey,
        ),
      ),
    ),
    refuse('is a JWE (5 segments)', bearer(`${base64url('{"alg":"RSA-OAEP","enc":"A256GCM"}')}.a.b.c.d`)),
    refuse(
      "is a real JWE of the claims, encrypted to the JWKS's public key",
      bearer(encryptTo(issuer.publicKey, issuer.kid, JSON.stringify(claims))),
    ),
    refuse(
      'is a PBES2 JWE with a huge p2c',
      bearer(
        `${base64url('{"alg":"PBES2-HS256+A128KW","enc":"A128GCM","p2c":2147483647,"p2s":"AAAA"}')}.a.b.c.d`,
      ),
    ),
    refuse(
      'is a JSON-serialised JWS',
      bearer(JSON.stringify({ protected: validHeader, payload: validPayload, signature: validSignature })),
    ),
    refuse(
      'is a polyglot token',
      bearer(
        JSON.stringify({
          [valid]: '',
          protected: validHeader,
          payload: base64url('{"sub":"admin"}'),
          signature: validSignature,
        }),
      ),
    ),
    accept(
      'has duplicate claim names (last one wins)',
      issuer.signRaw(
        JSON.stringify({ alg: 'ES256', kid: issuer.kid, typ: 'at+jwt' }),
        JSON.stringify(claims).replace('{', '{"sub":"attacker",'),
      ),
    ),
    accept(
      'has duplicate header names (last one wins: ES256)',
      issuer.signRaw(
        `{"alg":"none","kid":${JSON.stringify(issuer.kid)},"typ":"at+jwt","alg":"ES256"}`,
        JSON.stringify(claims),
      ),
    ),
    refuse(
      'has duplicate header names ending in alg none',
      bearer(
        issuer.signRaw(
          `{"alg":"ES256","kid":${JSON.stringify(issuer.kid)},"typ":"at+jwt","alg":"none"}`,
          JSON.stringify(claims),
        ),
      ),
    ),
    refuse(
      'has duplicate kid headers ending in an unknown kid',
      bearer(
        issuer.signRaw(
          `{"alg":"ES256","kid":${JSON.stringify(issuer.kid)},"typ":"at+jwt","kid":"attacker"}`,
          JSON.stringify(claims),
        ),
      ),
    ),
    refuse('has typ JWT', bearer(mint({}, { typ: 'JWT' }))),
    refuse('has no typ', bearer(mint({}, { typ: undefined }))),
    refuse('has typ id+jwt', bearer(mint({}, { typ: 'id+jwt' }))),
    accept('has typ application/at+jwt', mint({}, { typ: 'application/at+jwt' })),
    accept('has typ AT+JWT', mint({}, { typ: 'AT+JWT' })),
    refuse('has another issuer', bearer(mint({ iss: 'https://evil.test' }))),
    refuse('has the issuer with a trailing slash', bearer(mint({ iss: `${issuer.issuer}/` }))),
    refuse('has a look-alike unicode issuer', bearer(mint({ iss: issuer.issuer.replace('i', 'і') }))),
    accept('has aud as the string "orders"', mint({ aud: 'orders' })),
    accept('has aud as an array containing "orders"', mint({ aud: ['inventory', 'orders'] })),
    refuse('has an empty aud array', bearer(mint({ aud: [] }))),
    refuse('is for the other service only', bearer(mint({ aud: 'inventory' }))),
    refuse('has no aud', bearer(mint({ aud: undefined }))),
    accept('expired 29 s ago (within skew)', mint({ iat: now - 600, exp: now - 29 })),
    refuse('expired 31 s ago', bearer(mint({ iat: now - 600, exp: now - 31 }))),
    refuse('has exp as a string', bearer(mint({ exp: String(now + 900) }))),
    refuse('has a negative exp', bearer(mint({ exp: -1 }))),
    refuse('has exp 1e20', bearer(mint({ exp: 1e20 }))),
    accept('has nbf 29 s in the future', mint({ nbf: now + 29 })),
    refuse('has nbf 31 s in the future', bearer(mint({ nbf: now + 31 }))),
    refuse('has nbf as a string', bearer(mint({ nbf: String(now) }))),
    accept('has iat 29 s in the future', mint({ iat: now + 29 })),
    refuse('has iat 31 s in the future', bearer(mint({ iat: now + 31 }))),
    refuse('has iat as a string', bearer(mint({ iat: String(now) }))),
    refuse('has no jti', bearer(mint({ jti: undefined }))),
    refuse('has no sub', bearer(mint({ sub: undefined }))),
    refuse('has no exp', bearer(mint({ exp: undefined }))),
    refuse('has no iat', bearer(mint({ iat: undefined }))),
    refuse('has roles that are not an array', bearer(mint({ roles: 'admin' }))),
    refuse('has a role that is not a string', bearer(mint({ roles: ['customer', 7] }))),
    refuse('has an aud array with a member that is not a string', bearer(mint({ aud: ['orders', 7] }))),
    refuse('is over 8 KiB', bearer(mint({ padding: big }))),
    accept('is just under 8 KiB', mint({ padding: 'x'.repeat(5650) })),
    refuse('sends no credentials', undefined),
    refuse('sends "Bearer" alone', 'Bearer'),
    refuse('sends "Bearer a.b"', 'Bearer a.b'),
    refuse('has 4 segments', bearer(`${valid}.x`)),
    refuse('has bad base64', bearer('!!!.@@@.###')),
    refuse(
      'has a non-object payload',
      bearer(signCompactEs256({ alg: 'ES256', kid: issuer.kid, typ: 'at+jwt' }, '123', issuer.privateKey)),
    ),
    refuse('uses the Basic scheme', `Basic ${base64url('user:password')}`),
    refuse('has a revoked jti', bearer(mint({ jti: 'revoked-jti' }))),
    refuse('has a revoked jti re-encoded as (r, n-s)', bearer(malleate(mint({ jti: 'revoked-jti' })))),
    accept('is re-encoded as (r, n-s) but not revoked', malleate(mint())),
    refuse('belongs to an ended session (sid)', bearer(mint({ sid: 'revoked-sid' }))),
    refuse(
      'was issued before its subject was blocked',
      bearer(mint({ sub: 'blocked-user', iat: now - 120 })),
    ),
    refuse(
      'was issued at the moment its subject was blocked',
      bearer(mint({ sub: 'blocked-user', iat: now - 60 })),
    ),
    accept(
      'was issued after its subject was blocked',
      mint({ sub: 'blocked-user', iat: now - 59 }),
      'blocked-user',
    ),
  ];
}
