import type { JWTPayload } from 'jose';

import { AuthError } from '../errors/auth.error';

/** The verified caller, as read from an access token; frozen (one object serves every call with the same token). */
export interface Principal {
  /** `sub`: the user id, or the client id for service tokens. */
  readonly subject: string;
  /** `roles`, as the issuer signed them. */
  readonly roles: readonly string[];
  /** `scope`, split on spaces. */
  readonly scopes: readonly string[];
  /** `client_id` ('' when absent). */
  readonly clientId: string;
  /** `sid`: the login session, when the token belongs to one. */
  readonly sessionId?: string;
  /** `jti`. */
  readonly tokenId: string;
  /** `aud`, always as an array. */
  readonly audience: readonly string[];
  /** `iat`, epoch seconds. */
  readonly issuedAt: number;
  /** `exp`, epoch seconds. */
  readonly expiresAt: number;
  /** `act.sub` of an exchanged token (RFC 8693 §4.1): the service acting for `subject`. */
  readonly actor?: string;
}

const NONE: readonly never[] = Object.freeze([]);

/**
 * Maps verified claims to a frozen Principal; refuses claims of the wrong JSON type. The payload is
 * the caller's to give away: its `aud` and `roles` arrays are frozen in place.
 */
export function toPrincipal(payload: JWTPayload): Principal {
  const { sub, jti, iat, exp, aud } = payload;
  if (typeof sub !== 'string' || typeof jti !== 'string' || sub === '' || jti === '') {
    throw new AuthError('invalid_token');
  }
  if (typeof iat !== 'number' || typeof exp !== 'number') {
    throw new AuthError('invalid_token');
  }
  return Object.freeze({
    subject: sub,
    roles: rolesOf(payload['roles']),
    scopes: scopesOf(optionalString(payload['scope'])),
    clientId: optionalString(payload['client_id']) ?? '',
    sessionId: optionalString(payload['sid']),
    tokenId: jti,
    audience: audienceOf(aud),
    issuedAt: iat,
    expiresAt: exp,
    actor: readActor(payload['act']),
  });
}

function optionalString(value: unknown): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  throw new AuthError('invalid_token');
}

/**
 * `roles`, frozen; every member must be a string. Kept as the issuer signed them: `@Roles()` grants
 * only the roles a handler names, so a role no handler names grants nothing.
 */
function rolesOf(value: unknown): readonly string[] {
  if (value === undefined) return NONE;
  if (!Array.isArray(value)) throw new AuthError('invalid_token');
  for (const role of value) if (typeof role !== 'string') throw new AuthError('invalid_token');
  return Object.freeze(value as string[]);
}

function scopesOf(scope: string | undefined): readonly string[] {
  if (scope === undefined || scope === '') return NONE;
  const scopes = scope.split(' ').filter((item) => item !== '');
  return scopes.length === 0 ? NONE : Object.freeze(scopes);
}

// jose has matched `aud` with the expected audience, but not the type of each member
function audienceOf(aud: unknown): readonly string[] {
  if (typeof aud === 'string') return Object.freeze([aud]);
  if (aud === undefined) return NONE;
  if (!Array.isArray(aud)) throw new AuthError('invalid_token');
  for (const item of aud) if (typeof item !== 'string') throw new AuthError('invalid_token');
  return Object.freeze(aud as string[]);
}

function readActor(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const sub = typeof value === 'object' && value !== null ? (value as { sub?: unknown }).sub : undefined;
  if (typeof sub !== 'string') throw new AuthError('invalid_token');
  return sub;
}
