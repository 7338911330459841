import { createHash, randomBytes } from 'node:crypto';

const REFRESH_TOKEN_BYTES = 32;

/** A new opaque refresh token: 256 random bits, base64url (43 characters). Not a JWT. */
export function generateRefreshToken(): string {
  return randomBytes(REFRESH_TOKEN_BYTES).toString('base64url');
}

/** What is stored instead of the token: its SHA-256, hex. A full-entropy token needs no salt or slow hash. */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
