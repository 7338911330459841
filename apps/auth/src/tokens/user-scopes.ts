import type { Role } from '@relay/contracts';

/** The `client_id` of tokens issued by `/auth/login` and `/auth/refresh` (the Relay web front end). */
export const USER_CLIENT_ID = 'relay-web';

const SCOPES_BY_ROLE: Record<Role, readonly string[]> = {
  customer: ['orders:read', 'orders:write', 'inventory:read'],
  admin: ['orders:read', 'inventory:read', 'inventory:write', 'auth:admin'],
};

/** Every scope a user token can carry. */
export const ALL_USER_SCOPES: readonly string[] = [...new Set(Object.values(SCOPES_BY_ROLE).flat())];

/** The `scope` claim of a user token: the union of its roles' scopes, space-separated, in a stable order. */
export function scopeForRoles(roles: readonly Role[]): string {
  const granted = new Set(roles.flatMap((role) => SCOPES_BY_ROLE[role]));
  return ALL_USER_SCOPES.filter((scope) => granted.has(scope)).join(' ');
}
