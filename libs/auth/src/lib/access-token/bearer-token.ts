import { AuthError } from '../errors/auth.error';

// Compact JWS only: three base64url segments. JWE (5 segments), JSON serialisation and
// polyglot tokens are refused before any decoding (SECURITY T11, T12).
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const SCHEME_PREFIX_BYTES = 16;

/**
 * Reads the token of an `Authorization: Bearer <token>` value (RFC 6750 §2.1).
 * Absent or empty → `missing_token`; any other scheme or shape → `invalid_token`.
 */
export function readBearerToken(header: string | string[] | undefined, maxTokenBytes: number): string {
  if (header === undefined || header === '') throw new AuthError('missing_token');
  // several Authorization headers are ambiguous credentials
  if (Array.isArray(header)) throw new AuthError('invalid_token');
  if (header.length > maxTokenBytes + SCHEME_PREFIX_BYTES) throw new AuthError('token_too_large');
  const match = /^Bearer +(\S+) *$/i.exec(header);
  if (match === null) throw new AuthError('invalid_token');
  return match[1];
}

/** Refuses tokens over the size cap (in UTF-8 bytes), then anything that is not a compact JWS. */
export function assertCompactJws(token: string, maxTokenBytes: number): void {
  // O(1) first: more characters than bytes allowed is over the cap whatever they are
  if (token.length > maxTokenBytes) throw new AuthError('token_too_large');
  // base64url and dots only is ASCII, one byte a character: within the cap, no byte count needed
  if (COMPACT_JWS.test(token)) return;
  throw new AuthError(Buffer.byteLength(token, 'utf8') > maxTokenBytes ? 'token_too_large' : 'invalid_token');
}
