import type { JWTVerifyGetKey } from 'jose';

import { MAX_ACCESS_TOKEN_TTL_SECONDS, REVOCATION_BUCKET } from '@relay/contracts';

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
  /** JetStream KV bucket holding revocations. Default: `REVOCATION_BUCKET` from `@relay/contracts`. */
  revocationBucket?: string;
  /** Default timeout of `RelayNatsClient.send()` / `emit()`, in ms. Default: 3000. */
  rpcTimeoutMs?: number;
  /** Current time for token checks (pin it in tests). Default: the system clock. */
  clock?: () => Date;
}

/** Options with every default applied. */
export type ResolvedAuthOptions = Required<Omit<AuthModuleOptions, 'keyResolver' | 'clock'>> &
  Pick<AuthModuleOptions, 'keyResolver' | 'clock'>;

export function resolveAuthOptions(options: AuthModuleOptions): ResolvedAuthOptions {
  return {
    jwksUri: `${options.issuer.replace(/\/+$/, '')}/.well-known/jwks.json`,
    algorithms: ['ES256'],
    clockToleranceSeconds: 30,
    maxTokenAgeSeconds: MAX_ACCESS_TOKEN_TTL_SECONDS,
    maxTokenBytes: 8192,
    jwksCooldownMs: 1000,
    revocationBucket: REVOCATION_BUCKET,
    rpcTimeoutMs: 3000,
    ...stripUndefined(options),
  };
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
