import { Strategy } from 'passport';

import type { Principal } from '../access-token/access-token';
import type { AccessTokenVerifier, VerifiedToken } from '../access-token/access-token-verifier';
import { recordCaller } from '../call-context/call-context';
import { type HeaderBearingRequest, readRequestHeader } from '../http/request-header';

/** Passport's verify callback, as `PassportStrategy()` hands it over (calls `validate()`). */
export type AccessTokenVerifyCallback = (
  principal: Principal,
  done: (error: unknown, user?: unknown, info?: unknown) => void,
) => void;

/**
 * A passport strategy whose only judge is `AccessTokenVerifier`.
 *
 * Not passport-jwt: its `authenticate()` always verifies with `jsonwebtoken` (`JwtStrategy.JwtVerifier`)
 * once `secretOrKeyProvider` has returned a key, so a deferring key provider would still leave a
 * second verification path with its own `alg`, `typ`, `crit`, skew and claim rules. Here the
 * `Authorization` header is read and verified exactly as `AccessTokenGuard` does.
 *
 * A refusal is reported with `this.error(authError)` rather than `this.fail()`, so `AuthGuard()`
 * rethrows the same `AuthError` (same status, `WWW-Authenticate`, message) as `AccessTokenGuard`;
 * the price is that a refused token ends a multi-strategy chain instead of falling through.
 */
export class AccessTokenStrategy extends Strategy {
  override name = 'relay-access-token';

  constructor(
    private readonly verifier: AccessTokenVerifier,
    private readonly verify: AccessTokenVerifyCallback,
  ) {
    super();
  }

  override authenticate(request: HeaderBearingRequest): void {
    void this.judge(request);
  }

  private async judge(request: HeaderBearingRequest): Promise<void> {
    let verified: VerifiedToken;
    try {
      verified = await this.verifier.verifyBearer(readRequestHeader(request, 'authorization'));
    } catch (error) {
      this.error(error);
      return;
    }
    this.verify(verified.principal, (error, user, info) => {
      if (error !== null && error !== undefined) return this.error(error);
      if (user === undefined || user === null || user === false) return this.fail(info as string, 401);
      // the call's caller only once the app's validate() accepted it: a refused one could still pass a
      // later strategy of a chain (anonymous), and RolesGuard or an outgoing call would take it as caller
      try {
        recordCaller(verified.token, verified.principal);
      } catch (recordError) {
        return this.error(recordError);
      }
      return this.success(user as Express.User, info as object | undefined);
    });
  }
}
