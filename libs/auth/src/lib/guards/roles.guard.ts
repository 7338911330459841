import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';

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
    const hasRole = roles.length === 0 || roles.some((role) => principal.roles.includes(role));
    const hasScopes = scopes.every((scope) => principal.scopes.includes(scope));
    if (!hasRole || !hasScopes) throw new AuthError('insufficient_scope');
    return true;
  }
}
