import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';

import type { Role } from '@relay/contracts';

import { CallContext } from '../call-context/call-context';
import { AuthError } from '../errors/auth.error';
import { accessPolicyOf } from './access-policy';

/**
 * Enforces `@Roles()` (any one of) and `@Scopes()` (all of) on HTTP and NATS handlers alike.
 * Register as the second `APP_GUARD`, after `AccessTokenGuard`.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const { roles, scopes } = accessPolicyOf(this.reflector, context);
    if (roles.length === 0 && scopes.length === 0) return true;
    const principal = CallContext.current()?.principal;
    if (principal === undefined) throw new AuthError('missing_token');
    if (!hasAnyRole(principal.roles, roles) || !hasEveryScope(principal.scopes, scopes)) {
      throw new AuthError('insufficient_scope');
    }
    return true;
  }
}

function hasAnyRole(held: readonly Role[], wanted: readonly Role[]): boolean {
  if (wanted.length === 0) return true;
  for (const role of wanted) if (held.includes(role)) return true;
  return false;
}

function hasEveryScope(held: readonly string[], wanted: readonly string[]): boolean {
  for (const scope of wanted) if (!held.includes(scope)) return false;
  return true;
}
