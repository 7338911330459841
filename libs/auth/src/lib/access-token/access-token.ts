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
 * the caller's to give away: its `aud` and `roles` arrays may be frozen in place and shared.
 *
 * It runs once per new token, right after the signature check, so it stays small: one object shape
 * (absent optional claims are `undefined` members), no spreads, plain loops, the shared empty
 * array for the usual absent `roles` and empty `scope`, and the previous token's frozen `aud` and
 * `roles` arrays again when the members are the same (as they nearly always are).
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
  return value.length === 0 ? NONE : lastRoles.reuse(value as string[]);
}

function scopesOf(scope: string | undefined): readonly string[] {
  if (scope === undefined || scope === '') return NONE;
  const scopes = scope.split(' ').filter((item) => item !== '');
  return scopes.length === 0 ? NONE : Object.freeze(scopes);
}

// jose has matched `aud` with the expected audience, but not the type of each member
function audienceOf(aud: unknown): readonly string[] {
  if (typeof aud === 'string') return lastAudience.reuse([aud]);
  if (aud === undefined) return NONE;
  if (!Array.isArray(aud)) throw new AuthError('invalid_token');
  for (const item of aud) if (typeof item !== 'string') throw new AuthError('invalid_token');
  return lastAudience.reuse(aud as string[]);
}

/**
 * The frozen array handed out last, handed out again for equal members: consecutive tokens of an
 * issuer nearly always carry the same `aud` and `roles`, and a principal then shares them instead of
 * freezing a new array of its own. `items` is the caller's (a verified payload's): frozen as it is.
 */
class LastFrozen {
  private last: readonly string[] = NONE;

  reuse(items: string[]): readonly string[] {
    if (!haveSameMembers(items, this.last)) this.last = Object.freeze(items);
    return this.last;
  }
}

function haveSameMembers(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index += 1) if (a[index] !== b[index]) return false;
  return true;
}

const lastAudience = new LastFrozen();
const lastRoles = new LastFrozen();

function readActor(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const sub = typeof value === 'object' && value !== null ? (value as { sub?: unknown }).sub : undefined;
  if (typeof sub !== 'string') throw new AuthError('invalid_token');
  return sub;
}
