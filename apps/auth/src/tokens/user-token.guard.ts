import { type CanActivate, Injectable } from '@nestjs/common';

import { AuthError, CallContext } from '@relay/auth';

import { isUserToken } from './user-scopes';

/**
 * Auth's own Bearer routes (`/auth/me`, logout, password) take the tokens it issues to users at a
 * login, nothing else: its verifier checks an audience a service's client_credentials token or a token
 * exchanged for that callee may name as well. After the AccessTokenGuard (an app guard runs first).
 */
@Injectable()
export class UserTokenGuard implements CanActivate {
  canActivate(): boolean {
    const principal = CallContext.current()?.principal;
    if (principal === undefined) throw new AuthError('missing_token');
    if (!isUserToken(principal)) throw new AuthError('invalid_token');
    return true;
  }
}
