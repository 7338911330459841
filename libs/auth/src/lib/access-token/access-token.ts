import type { JWTPayload } from 'jose';

import { ROLES, type Role } from '@relay/contracts';

import { AuthError } from '../errors/auth.error';

/** The verified caller, as read from an access token; frozen (one object serves every call with the same token). */
export interface Principal {
  /** `sub`: the user id, or the client id for service tokens. */
  readonly subject: string;
  /** `roles`, restricted to the known roles. */
  readonly roles: readonly Role[];
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

const KNOWN_ROLES: readonly string[] = ROLES;

/** Maps verified claims to a frozen Principal; refuses claims of the wrong JSON type. */
export function toPrincipal(payload: JWTPayload): Principal {
  const { sub, jti, iat, exp, aud } = payload;
  if (typeof sub !== 'string' || typeof jti !== 'string' || sub === '' || jti === '') {
    throw new AuthError('invalid_token');
  }
  if (typeof iat !== 'number' || typeof exp !== 'number') {
    throw new AuthError('invalid_token');
  }
  const roles = optionalStringArray(payload['roles']);
  const scope = optionalString(payload['scope']) ?? '';
  const sessionId = optionalString(payload['sid']);
  const actor = readActor(payload['act']);
  return Object.freeze({
    subject: sub,
    roles: Object.freeze(roles.filter((role): role is Role => KNOWN_ROLES.includes(role))),
    scopes: Object.freeze(scope.split(' ').filter((item) => item !== '')),
    clientId: optionalString(payload['client_id']) ?? '',
    tokenId: jti,
    audience: Object.freeze(typeof aud === 'string' ? [aud] : [...(aud ?? [])]),
    issuedAt: iat,
    expiresAt: exp,
    ...(sessionId === undefined ? {} : { sessionId }),
    ...(actor === undefined ? {} : { actor }),
  });
}

function optionalString(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new AuthError('invalid_token');
  return value;
}

function optionalStringArray(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new AuthError('invalid_token');
  }
  return value;
}

function readActor(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const sub = typeof value === 'object' && value !== null ? (value as { sub?: unknown }).sub : undefined;
  if (typeof sub !== 'string') throw new AuthError('invalid_token');
  return sub;
}
