/** Subjects on which auth announces changes every verifier must apply at once. */
export const AuthSubjects = {
  /** A revocation entry was written (payload: `RevocationEntry`). */
  revoked: 'auth.revoked',
  /** The signing key changed; verifiers refetch the JWKS (payload: `KeysRotatedEvent`). */
  keysRotated: 'auth.keys.rotated',
} as const;

/** JetStream KV bucket holding revocations; entries expire with the longest access token. */
export const REVOCATION_BUCKET = 'relay-revocations';

/**
 * One revocation, stored under {@link revocationKey}; the value is this object.
 * Nothing secret: ids and timestamps only.
 */
export type RevocationEntry =
  | { kind: 'jti'; id: string; at: number }
  | { kind: 'sid'; id: string; at: number }
  /** Tokens of subject `id` issued at or before `at` (epoch seconds) are refused. */
  | { kind: 'sub'; id: string; at: number };

export type RevocationKind = RevocationEntry['kind'];

/**
 * The bucket key of `entry`: `<kind>.<id>`, and `sub.<id>.<at>` for a subject's not-before. A later
 * not-before never shares a key with an earlier one, so issuers publishing the same subject's
 * entries in any order (several instances, one retrying after an outage) cannot replace a newer
 * not-before with an older one: a verifier replaying the bucket keeps the latest of them.
 */
export function revocationKey(entry: RevocationEntry): string {
  return entry.kind === 'sub' ? `sub.${entry.id}.${entry.at}` : `${entry.kind}.${entry.id}`;
}

/**
 * What a bucket key names: its kind and id, and for `sub.<id>.<at>` the not-before it held (a
 * `sub.<id>` key, written before subject keys carried it, has none). `undefined` for any other key.
 */
export function parseRevocationKey(
  key: string,
): { kind: RevocationKind; id: string; at?: number } | undefined {
  const separator = key.indexOf('.');
  const kind = key.slice(0, separator);
  const id = key.slice(separator + 1);
  if (separator < 0 || id === '') return undefined;
  if (kind === 'jti' || kind === 'sid') return { kind, id };
  if (kind !== 'sub') return undefined;
  const dated = /^(.+)\.(\d+)$/.exec(id);
  return dated ? { kind, id: dated[1], at: Number(dated[2]) } : { kind, id };
}

export interface KeysRotatedEvent {
  kid: string;
}

/** Longest access-token lifetime any issuer may configure. */
export const MAX_ACCESS_TOKEN_TTL_SECONDS = 86_400;

/** Largest clock tolerance a verifier may allow past a token's `exp` (and before its `iat`/`nbf`). */
export const MAX_CLOCK_TOLERANCE_SECONDS = 300;

/**
 * How long a revocation entry lives (the bucket's TTL, and the verifiers' memory of it): the longest
 * token, plus the longest a verifier may still accept it past its `exp`, after which every token it
 * could refuse is refused anyway.
 */
export const REVOCATION_RETENTION_SECONDS = MAX_ACCESS_TOKEN_TTL_SECONDS + MAX_CLOCK_TOLERANCE_SECONDS;
