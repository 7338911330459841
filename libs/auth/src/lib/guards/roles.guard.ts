import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';

import { CallContext } from '../call-context/call-context';
import { AuthError } from '../errors/auth.error';
import { accessPolicyOf, assertPolicyMet } from './access-policy';

/**
 * Enforces `@Roles()` (any one of) and `@Scopes()` (all of) on the caller another guard recorded
 * (passport's `AuthGuard('jwt')` with `RelayJwtStrategy`); register it after that guard.
 * `AccessTokenGuard` enforces them itself.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const policy = accessPolicyOf(this.reflector, context);
    if (policy.roles.length === 0 && policy.scopes.length === 0) return true;
    const principal = CallContext.current()?.principal;
    if (principal === undefined) throw new AuthError('missing_token');
    assertPolicyMet(principal, policy);
    return true;
  }
}
