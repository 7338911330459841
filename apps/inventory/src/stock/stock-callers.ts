import { type CanActivate, Injectable } from '@nestjs/common';

import { AuthError, CallContext, type Principal } from '@relay/auth';
import { ROLES, ServiceScopes } from '@relay/contracts';

import type { StockCaller } from './stock.service';

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
  const hasUserRole = principal.roles.some((role) => (ROLES as readonly string[]).includes(role));
  // orders' own client holds it (after a crash or a lost reply, no customer token is at hand); user
  // tokens never do: auth grants users only their roles' scopes
  const isReleaseService = principal.scopes.includes(ServiceScopes.inventoryRelease);
  if (!hasUserRole && !isReleaseService) throw new AuthError('insufficient_scope');
  return { userId: principal.subject, canReleaseAny: isReleaseService || principal.roles.includes('admin') };
}

/**
 * `releaseCaller`'s check as a guard: guards run before the payload is validated, so a caller without
 * the rights gets 403 whatever it sent, as `@Roles` gives on `inventory.reserve`, not a 400 that
 * tells it what `inventory.release` takes.
 */
@Injectable()
export class ReleaseCallerGuard implements CanActivate {
  canActivate(): boolean {
    releaseCaller(CallContext.current()?.principal);
    return true;
  }
}
