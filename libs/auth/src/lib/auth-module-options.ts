import type { JWTVerifyGetKey } from 'jose';

import {
  MAX_ACCESS_TOKEN_TTL_SECONDS,
  MAX_CLOCK_TOLERANCE_SECONDS,
  REVOCATION_BUCKET,
} from '@relay/contracts';

import type { NatsConnectionSettings } from './nats/nats-connection';

/** Options of `AuthModule.forRoot()` / `forRootAsync()`. */
export interface AuthModuleOptions {
  /** Expected `iss`, compared by exact string equality. Required. */
  issuer: string;
  /** This service's audience; the token's `aud` (string or array) must contain it. Required. */
  audience: string;
  /** JWKS location. Default: `${issuer}/.well-known/jwks.json`. Ignored when `keyResolver` is set. */
  jwksUri?: string;
  /** NATS server URL(s) used by `RelayNatsClient`, revocation and key events. Required. */
  natsUrl: string;
  /** Name of this service's NATS connection (shown by `nats server report connections`). Required. */
  serviceName: string;
  /** PEM file the NATS server certificate must chain to (`NATS_TLS_CA_FILE`). Set: TLS required. Default: plain TCP. */
  natsTlsCaFile?: string;
  /** File holding this service's NKey seed (`NATS_NKEY_SEED_FILE`), its bus identity. Default: anonymous. */
  natsNkeySeedFile?: string;
  /** Prefix of this service's NATS reply inboxes; its bus identity may subscribe only there. Default: `_INBOX_<serviceName>`. */
  natsInboxPrefix?: string;
  /** Accepted `alg` values. Default: `['ES256']`. `none` and HS* are always refused. */
  algorithms?: readonly string[];
  /** Allowed clock skew for `exp`, `nbf` and `iat`, in seconds. Default: 30. */
  clockToleranceSeconds?: number;
  /** Oldest accepted token by `iat`, in seconds; also enables the `iat`-in-the-future check. Default: 86400. */
  maxTokenAgeSeconds?: number;
  /** Largest accepted token, in bytes, checked before any parsing. Default: 8192. */
  maxTokenBytes?: number;
  /** Resolves verification keys instead of the remote JWKS (the issuer passes its local key set). Default: remote JWKS. */
  keyResolver?: JWTVerifyGetKey;
  /** Minimum time between two JWKS fetches (unknown `kid`, key events), in ms. Default: 1000. */
  jwksCooldownMs?: number;
  /**
   * Age of the held JWKS, in ms, past which the next token checked triggers a fetch in the background:
   * a key the issuer stopped publishing (retired by time, with no event) stops verifying. Default: 600000.
   */
  jwksMaxAgeMs?: number;
  /** JetStream KV bucket holding revocations. Default: `REVOCATION_BUCKET` from `@relay/contracts`. */
  revocationBucket?: string;
  /**
   * Create the revocation bucket when it is missing (history 1, TTL the longest token). `false`: only
   * bind to it and retry until the issuer has created it, for a bus identity that may not create
   * streams (Relay's orders and inventory): each attempt to create it would be a permissions
   * violation on the connection. Default: `true`.
   */
  createRevocationBucket?: boolean;
  /**
   * While the revocation feed is lost: `'refuse'` every token (503) until the bucket is replayed;
   * `'last-known'` goes on checking against the list as last replayed, once it has been replayed in
   * this process (the issuer, which applies its own revocations at once, so it can still take a
   * logout during a NATS outage). Default: `'refuse'`.
   */
  revocationOutage?: 'refuse' | 'last-known';
  /** Default timeout of `RelayNatsClient.send()` / `emit()`, in ms. Default: 3000. */
  rpcTimeoutMs?: number;
  /** Current time for token checks and credential caches (pin it in tests). Default: the system clock. */
  clock?: () => Date;
  /**
   * Verified tokens remembered by `AccessTokenVerifier` (keyed by the exact token string, kept until
   * `exp`, revocation still checked on every hit). Default: 10000; 0 disables the cache.
   */
  verifiedTokenCacheSize?: number;
  /**
   * Which token outgoing calls (`RelayNatsClient`, `RelayHttpClient`) carry. Default: `'forward'`.
   * `'forward'`: the caller's token; `'exchange'`: the caller's token exchanged (RFC 8693) for one
   * narrowed to the callee's audience; `'service'`: this service's own client_credentials token.
   */
  propagation?: PropagationMode;
  /** This service's OAuth client id (`AUTH_CLIENT_ID`). Required for `'exchange'` and `'service'`. */
  clientId?: string;
  /** This service's OAuth client secret (`AUTH_CLIENT_SECRET`). Required for `'exchange'` and `'service'`. */
  clientSecret?: string;
  /** The issuer's token endpoint. Default: `${issuer}/oauth/token`. */
  tokenEndpoint?: string;
  /**
   * Callee audience by NATS subject pattern (`*` = one token, `>` = the rest), first match wins, e.g.
   * `{ 'inventory.>': 'inventory' }`. Default: `{}`; unmatched subjects use their first token
   * (`inventory.reserve` → `inventory`).
   */
  calleeAudiences?: Readonly<Record<string, string>>;
}

/** How outgoing calls authenticate: see `AuthModuleOptions.propagation`. */
export type PropagationMode = 'forward' | 'exchange' | 'service';

type OptionalWithoutDefault =
  | 'keyResolver'
  | 'clock'
  | 'clientId'
  | 'clientSecret'
  | 'natsTlsCaFile'
  | 'natsNkeySeedFile'
  | 'natsInboxPrefix';

/** Options with every default applied. */
export type ResolvedAuthOptions = Required<Omit<AuthModuleOptions, OptionalWithoutDefault>> &
  Pick<AuthModuleOptions, OptionalWithoutDefault>;

/**
 * The options with every default applied; throws, naming the option, when one cannot work as meant
 * (an empty issuer or audience would switch jose's check off, a NaN tolerance would accept expired
 * tokens), so a misconfigured service fails at start-up instead of accepting or refusing every token.
 */
export function resolveAuthOptions(options: AuthModuleOptions): ResolvedAuthOptions {
  for (const name of REQUIRED_STRINGS) {
    if (typeof options[name] !== 'string' || options[name].trim() === '') {
      throw new Error(`AuthModule: ${name} is required (a non-empty string)`);
    }
  }
  const issuer = options.issuer.replace(/\/+$/, '');
  const resolved: ResolvedAuthOptions = {
    jwksUri: `${issuer}/.well-known/jwks.json`,
    tokenEndpoint: `${issuer}/oauth/token`,
    algorithms: ['ES256'],
    clockToleranceSeconds: 30,
    maxTokenAgeSeconds: MAX_ACCESS_TOKEN_TTL_SECONDS,
    maxTokenBytes: 8192,
    jwksCooldownMs: 1000,
    jwksMaxAgeMs: 10 * 60_000,
    revocationBucket: REVOCATION_BUCKET,
    createRevocationBucket: true,
    revocationOutage: 'refuse',
    rpcTimeoutMs: 3000,
    verifiedTokenCacheSize: 10_000,
    propagation: 'forward',
    calleeAudiences: {},
    ...stripUndefined(options),
  };
  assertUsable(resolved);
  return resolved;
}

// RFC 8725 §3.1 / SECURITY T2: symmetric and unsigned algorithms are never accepted, whatever the
// configuration says (AccessTokenVerifier drops them)
export const FORBIDDEN_ALGORITHM = /^(none|HS\d+)$/i;
// the asymmetric JWS algorithms jose verifies on Node (names are case-sensitive)
const ASYMMETRIC_ALGORITHMS = new Set(
  ['RS', 'PS', 'ES']
    .flatMap((family) => ['256', '384', '512'].map((bits) => family + bits))
    .concat('ES256K', 'EdDSA', 'Ed25519'),
);
const REQUIRED_STRINGS = ['issuer', 'audience', 'natsUrl', 'serviceName'] as const;

/** Integer options: [name, least, greatest]. */
const INTEGER_RANGES: readonly (readonly [keyof ResolvedAuthOptions, number, number])[] = [
  // SECURITY: 30 s; beyond a few minutes a tolerance no longer bounds anything
  ['clockToleranceSeconds', 0, MAX_CLOCK_TOLERANCE_SECONDS],
  // revocation entries live as long as the longest token (the bucket's TTL, the list's pruning)
  ['maxTokenAgeSeconds', 1, MAX_ACCESS_TOKEN_TTL_SECONDS],
  ['maxTokenBytes', 256, 65_536],
  ['jwksCooldownMs', 0, Number.MAX_SAFE_INTEGER],
  ['jwksMaxAgeMs', 1, Number.MAX_SAFE_INTEGER],
  ['rpcTimeoutMs', 1, 2_147_483_647],
  ['verifiedTokenCacheSize', 0, 10_000_000],
];

function assertUsable(options: ResolvedAuthOptions): void {
  for (const [name, least, greatest] of INTEGER_RANGES) {
    const value = options[name];
    if (!Number.isInteger(value) || (value as number) < least || (value as number) > greatest) {
      throw new Error(
        `AuthModule: ${name} must be an integer from ${least} to ${greatest} (got ${String(value)})`,
      );
    }
  }
  const { algorithms } = options;
  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    throw new Error('AuthModule: algorithms must be a non-empty array of JWS algorithm names');
  }
  for (const alg of algorithms) {
    if (!ASYMMETRIC_ALGORITHMS.has(alg) && !FORBIDDEN_ALGORITHM.test(alg)) {
      throw new Error(
        `AuthModule: algorithms: '${String(alg)}' is not one of ${[...ASYMMETRIC_ALGORITHMS].join(', ')}`,
      );
    }
  }
  // an issuer need not be a URL: its derived locations are checked only where they are used
  const locations = [
    ...(options.keyResolver === undefined ? (['jwksUri'] as const) : []),
    ...(options.clientId === undefined && options.propagation === 'forward'
      ? []
      : (['tokenEndpoint'] as const)),
  ];
  for (const name of locations) {
    if (!URL.canParse(options[name]) || !/^https?:$/.test(new URL(options[name]).protocol)) {
      throw new Error(`AuthModule: ${name} must be an http(s) URL`);
    }
  }
  assertOneOf('revocationOutage', options.revocationOutage, ['refuse', 'last-known']);
  assertOneOf('propagation', options.propagation, ['forward', 'exchange', 'service']);
}

function assertOneOf(name: string, value: unknown, allowed: readonly string[]): void {
  if (!allowed.includes(value as string)) {
    throw new Error(`AuthModule: ${name} must be one of ${allowed.map((item) => `'${item}'`).join(', ')}`);
  }
}

/** How this service's NATS connections reach and identify to the bus. */
export function natsSettingsOf(options: AuthModuleOptions): NatsConnectionSettings {
  return {
    url: options.natsUrl,
    name: options.serviceName,
    tlsCaFile: options.natsTlsCaFile,
    nkeySeedFile: options.natsNkeySeedFile,
    inboxPrefix: options.natsInboxPrefix,
  };
}

/** The current time in epoch ms from the `clock` option, or the system clock's (`Date.now`) without one. */
export function epochMsClock(clock: (() => Date) | undefined): () => number {
  return clock === undefined ? Date.now : () => clock().getTime();
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
