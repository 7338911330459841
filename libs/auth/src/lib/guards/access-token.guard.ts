import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';

import { MessageHeaders } from '@relay/contracts';

import { AccessTokenVerifier } from '../access-token/access-token-verifier';
import { readBearerToken } from '../access-token/bearer-token';
import { attachAuthentication, callCarrier } from '../call-context/call-carrier';
import { IS_PUBLIC_KEY } from '../decorators/public.decorator';

/**
 * Authenticates every HTTP request (`Authorization: Bearer`) and NATS message (`authorization`
 * header) with one policy; `@Public()` handlers skip it. Register as the first `APP_GUARD`.
 */
@Injectable()
export class AccessTokenGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: AccessTokenVerifier,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic === true) return true;
    const carrier = callCarrier(context);
    const token = readBearerToken(carrier.header(MessageHeaders.authorization), this.verifier.maxTokenBytes);
    // a repeated token is answered synchronously: no promise on the hot path
    const cached = this.verifier.verifyCached(token);
    if (cached !== undefined) {
      attachAuthentication(carrier.target, { token, principal: cached });
      return true;
    }
    return this.verifier.verify(token).then((principal) => {
      attachAuthentication(carrier.target, { token, principal });
      return true;
    });
  }
}
