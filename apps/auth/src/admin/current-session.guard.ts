import { type CanActivate, Injectable } from '@nestjs/common';

import { AuthError, CallContext } from '@relay/auth';

import { isUserToken } from '../tokens/user-scopes';
import { UsersRepository } from '../users/users.repository';

/**
 * Auth's admin routes check their caller against auth's own database as well as its token: the issuer
 * goes on with the revocations it last knew while its feed is lost (`revocationOutage: 'last-known'`),
 * and an admin blocked, logged out or whose sessions were all ended through another replica meanwhile
 * would otherwise go on blocking, unblocking (themselves included) and rotating keys here. After the
 * AccessTokenGuard and RolesGuard (an app guard runs first): the token is verified, the role held.
 */
@Injectable()
export class CurrentSessionGuard implements CanActivate {
  constructor(private readonly users: UsersRepository) {}

  async canActivate(): Promise<boolean> {
    const principal = CallContext.current()?.principal;
    if (principal === undefined) throw new AuthError('missing_token');
    const isCurrent =
      isUserToken(principal) &&
      principal.sessionId !== undefined &&
      (await this.users.isSessionCurrent(principal.subject, principal.sessionId, principal.issuedAt));
    if (!isCurrent) throw new AuthError('token_revoked');
    return true;
  }
}
