import { Strategy } from 'passport';

import type { Principal } from '../access-token/access-token';
import type { AccessTokenVerifier } from '../access-token/access-token-verifier';
import { recordCaller, withdrawCaller } from '../call-context/call-context';
import { AuthError } from '../errors/auth.error';
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
 *
 * HTTP only: on a NATS handler `AuthGuard()` hands over the message's data, not its headers, so every
 * message is refused (401) there, a token inside the data above all; NATS handlers use `AccessTokenGuard`.
 */
export class AccessTokenStrategy extends Strategy {
  override name = 'relay-access-token';

  constructor(
    private readonly verifier: AccessTokenVerifier,
    private readonly verify: AccessTokenVerifyCallback,
  ) {
    super();
  }

  override authenticate(request: unknown): void {
    if (!isHttpRequest(request)) {
      this.error(new AuthError('invalid_token', "Unsupported transport: AuthGuard('jwt') guards HTTP only"));
      return;
    }
    void this.judge(request);
  }

  private async judge(request: HeaderBearingRequest): Promise<void> {
    let principal: Principal;
    try {
      const verified = await this.verifier.verifyBearer(readRequestHeader(request, 'authorization'));
      // validate() runs as the caller (its own outgoing calls carry the token)
      recordCaller(verified.token, verified.principal);
      principal = verified.principal;
    } catch (error) {
      this.error(error);
      return;
    }
    this.verify(principal, (error, user, info) => {
      // refused by validate(): a later strategy of a chain (anonymous) may still let the request on,
      // and RolesGuard or an outgoing call must not find the refused caller in the call
      if (error !== null && error !== undefined) {
        withdrawCaller();
        return this.error(error);
      }
      if (user === undefined || user === null || user === false) {
        withdrawCaller();
        return this.fail(info as string, 401);
      }
      return this.success(user as Express.User, info as object | undefined);
    });
  }
}

/**
 * A request of Node's HTTP server, Express's (one) or Fastify's (`raw`): a stream. What `AuthGuard()`
 * hands over on RPC is a message's data, parsed JSON, which holds no function whatever its fields.
 */
function isHttpRequest(request: unknown): request is HeaderBearingRequest {
  if (typeof request !== 'object' || request === null) return false;
  const node = (request as { raw?: unknown }).raw ?? request;
  return (
    typeof (node as { on?: unknown }).on === 'function' &&
    typeof (request as { headers?: unknown }).headers === 'object'
  );
}
