import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';

import type { JSONWebKeySet, JWK } from 'jose';

import { isRole, scopeForRoles } from '@relay/contracts';

import { signCompactEs256 } from './compact-jws';
import { type JwksServer, serveJwks } from './jwks-server';

/** What to change in a minted token; a value of `undefined` removes that claim / header field. */
export interface MintOverrides {
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
  /** Sign with this P-256 private key instead of the issuer's current key. */
  key?: KeyObject;
}

/** Options of `createTestIssuer()`. */
export interface TestIssuerOptions {
  /** `iss` of minted tokens. Default: `https://issuer.relay.test`. */
  issuer?: string;
  /** `aud` of minted tokens. Default: `['orders', 'inventory']`. */
  audience?: string[];
}

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: JWK;
}

/** An in-process ES256 issuer minting contract-shaped access tokens, with a real JWKS endpoint. */
export interface TestIssuer {
  readonly issuer: string;
  /** `kid` of the current signing key. */
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Public JWK of the current key (`kid`, `alg`, `use`). */
  readonly publicJwk: JWK;
  /** The public JWKS (every key, current last). */
  jwks(): JSONWebKeySet;
  /** A signed token: header `{alg: ES256, kid, typ: at+jwt}`, claims iss sub aud iat exp jti client_id sid roles scope. */
  mintAccessToken(overrides?: MintOverrides): string;
  /** Signs raw header/payload JSON with the current key (for duplicate-name and other odd tokens). */
  signRaw(header: string, payload: string): string;
  /** Adds a new key and makes it current; returns its `kid`. */
  rotate(): string;
  /** Serves `jwks()` over real HTTP on 127.0.0.1. */
  serveJwks(): Promise<JwksServer>;
}

/** Creates a test issuer with one fresh P-256 key (synchronous, so tables can be built at collection time). */
export function createTestIssuer(options: TestIssuerOptions = {}): TestIssuer {
  const issuer = options.issuer ?? 'https://issuer.relay.test';
  const audience = options.audience ?? ['orders', 'inventory'];
  const keys: SigningKey[] = [createSigningKey()];
  const current = (): SigningKey => keys[keys.length - 1];
  const jwks = (): JSONWebKeySet => ({ keys: keys.map((key) => key.publicJwk) });
  return {
    issuer,
    get kid() {
      return current().kid;
    },
    get privateKey() {
      return current().privateKey;
    },
    get publicKey() {
      return current().publicKey;
    },
    get publicJwk() {
      return current().publicJwk;
    },
    jwks,
    mintAccessToken: (overrides = {}) => {
      const now = Math.floor(Date.now() / 1000);
      const header = withOverrides({ alg: 'ES256', kid: current().kid, typ: 'at+jwt' }, overrides.header);
      const claims = withOverrides(
        {
          iss: issuer,
          sub: 'user-1',
          aud: audience,
          iat: now,
          exp: now + 900,
          jti: randomUUID(),
          client_id: 'relay-web',
          sid: randomUUID(),
          roles: ['customer'],
          // as the issuer: the roles' scopes, unless the spec sets its own
          scope: scopeOf(overrides.claims?.['roles'] ?? ['customer']),
        },
        overrides.claims,
      );
      return signCompactEs256(header, claims, overrides.key ?? current().privateKey);
    },
    signRaw: (header, payload) => signCompactEs256(header, payload, current().privateKey),
    rotate: () => {
      keys.push(createSigningKey());
      return current().kid;
    },
    serveJwks: () => serveJwks(jwks),
  };
}

function createSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = randomUUID();
  // only the public half is ever published (SECURITY K1)
  const publicJwk: JWK = { ...(publicKey.export({ format: 'jwk' }) as JWK), kid, alg: 'ES256', use: 'sig' };
  return { kid, privateKey, publicKey, publicJwk };
}

function scopeOf(roles: unknown): string {
  return Array.isArray(roles)
    ? scopeForRoles(roles.filter((role): role is string => typeof role === 'string').filter(isRole))
    : '';
}

function withOverrides(
  base: Record<string, unknown>,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base, ...overrides };
  for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete merged[name];
  return merged;
}
