import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';

import { MessageHeaders } from '@relay/contracts';

import { AccessTokenVerifier, type VerifiedToken } from '../access-token/access-token-verifier';
import { readCallHeader } from '../call-context/call-carrier';
import { recordCaller } from '../call-context/call-context';
import { accessPolicyOf } from './access-policy';

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
    if (accessPolicyOf(this.reflector, context).isPublic) return true;
    const verdict = this.verifier.verifyBearer(readCallHeader(context, MessageHeaders.authorization));
    // a repeated token is answered synchronously: no promise on the hot path
    if (!(verdict instanceof Promise)) return admit(verdict);
    return verdict.then(admit);
  }
}

function admit({ token, principal }: VerifiedToken): true {
  recordCaller(token, principal);
  return true;
}
