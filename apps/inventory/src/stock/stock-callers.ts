import { AuthError, type Principal } from '@relay/auth';

import type { StockCaller } from './stock.service';

/**
 * Scope of a service token that may release any order (orders' own client in AUTH_CLIENTS, used after
 * a crash or a lost reply when no customer token is at hand). User tokens never carry it: auth grants
 * users only their roles' scopes.
 */
export const INVENTORY_RELEASE_SCOPE = 'inventory:release';

const USER_ROLES = ['customer', 'admin'] as const;

/** The caller of `inventory.reserve` (the global `@Roles('customer', 'admin')` check has passed). */
export function reserveCaller(principal: Principal | undefined): StockCaller {
  if (principal === undefined) throw new AuthError('missing_token');
  return { userId: principal.subject, canReleaseAny: principal.roles.includes('admin') };
}

/**
 * The caller of `inventory.release`: role customer or admin (own orders; admin any), or a service
 * token with scope `inventory:release` (any order). Anything else is refused with 403, as
 * `@Roles` would, which cannot express "role or scope".
 */
export function releaseCaller(principal: Principal | undefined): StockCaller {
  if (principal === undefined) throw new AuthError('missing_token');
  const hasUserRole = principal.roles.some((role) => (USER_ROLES as readonly string[]).includes(role));
  const isReleaseService = principal.scopes.includes(INVENTORY_RELEASE_SCOPE);
  if (!hasUserRole && !isReleaseService) throw new AuthError('insufficient_scope');
  return { userId: principal.subject, canReleaseAny: isReleaseService || principal.roles.includes('admin') };
}
