import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';

import type { Role } from '@relay/contracts';

import { callCarrier, readAuthentication } from '../call-context/call-carrier';
import { ROLES_KEY } from '../decorators/roles.decorator';
import { SCOPES_KEY } from '../decorators/scopes.decorator';
import { AuthError } from '../errors/auth.error';

/**
 * Enforces `@Roles()` (any one of) and `@Scopes()` (all of) on HTTP and NATS handlers alike.
 * Register as the second `APP_GUARD`, after `AccessTokenGuard`.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets) ?? [];
    const scopes = this.reflector.getAllAndOverride<string[] | undefined>(SCOPES_KEY, targets) ?? [];
    if (roles.length === 0 && scopes.length === 0) return true;
    const principal = readAuthentication(callCarrier(context).target)?.principal;
    if (principal === undefined) throw new AuthError('missing_token');
    const hasRole = roles.length === 0 || roles.some((role) => principal.roles.includes(role));
    const hasScopes = scopes.every((scope) => principal.scopes.includes(scope));
    if (!hasRole || !hasScopes) throw new AuthError('insufficient_scope');
    return true;
  }
}
