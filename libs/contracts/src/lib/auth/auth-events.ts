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
 * One revocation. Keys in the bucket are `<kind>.<id>`; the value is this object.
 * Nothing secret: ids and timestamps only.
 */
export type RevocationEntry =
  | { kind: 'jti'; id: string; at: number }
  | { kind: 'sid'; id: string; at: number }
  /** Tokens of subject `id` issued at or before `at` (epoch seconds) are refused. */
  | { kind: 'sub'; id: string; at: number };

export type RevocationKind = RevocationEntry['kind'];

export interface KeysRotatedEvent {
  kid: string;
}

/**
 * Longest access-token lifetime any issuer may configure; revocation entries live this long,
 * after which every token they could refuse has expired anyway.
 */
export const MAX_ACCESS_TOKEN_TTL_SECONDS = 86_400;
