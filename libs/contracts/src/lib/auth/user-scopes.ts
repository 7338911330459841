import type { Role } from './role';

/**
 * Scopes a user token carries, by role; the services' routes ask for them (`@Scopes`), so a token
 * narrowed to one scope by a token exchange (RFC 8693, SECURITY S11) can do no more than that.
 */
export const UserScopes = {
  ordersRead: 'orders:read',
  ordersWrite: 'orders:write',
  inventoryRead: 'inventory:read',
  inventoryWrite: 'inventory:write',
  authAdmin: 'auth:admin',
} as const;

const SCOPES_BY_ROLE: Record<Role, readonly string[]> = {
  customer: [UserScopes.ordersRead, UserScopes.ordersWrite, UserScopes.inventoryRead],
  admin: [
    UserScopes.ordersRead,
    UserScopes.ordersWrite,
    UserScopes.inventoryRead,
    UserScopes.inventoryWrite,
    UserScopes.authAdmin,
  ],
};

/** Every scope a user token can carry. */
export const ALL_USER_SCOPES: readonly string[] = [...new Set(Object.values(SCOPES_BY_ROLE).flat())];

/** The `scope` claim of a user token: the union of its roles' scopes, space-separated, in a stable order. */
export function scopeForRoles(roles: readonly Role[]): string {
  const granted = new Set(roles.flatMap((role) => SCOPES_BY_ROLE[role]));
  return ALL_USER_SCOPES.filter((scope) => granted.has(scope)).join(' ');
}
