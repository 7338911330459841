import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';

import { MessageHeaders } from '@relay/contracts';

import { AccessTokenVerifier, type VerifiedToken } from '../access-token/access-token-verifier';
import { readCallHeader } from '../call-context/call-carrier';
import { recordCaller } from '../call-context/call-context';
import { type AccessPolicy, accessPolicyOf, assertPolicyMet } from './access-policy';

/**
 * Authenticates every HTTP request (`Authorization: Bearer`) and NATS message (`authorization`
 * header) and enforces `@Roles()` / `@Scopes()` on the caller it verified, on both transports alike;
 * `@Public()` handlers skip it. `AuthModule` installs it as the `APP_GUARD` (unless `installGlobalGuard: false`).
 */
@Injectable()
export class AccessTokenGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: AccessTokenVerifier,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const policy = accessPolicyOf(this.reflector, context);
    if (policy.isPublic) return true;
    const verdict = this.verifier.verifyBearer(readCallHeader(context, MessageHeaders.authorization));
    // a repeated token is answered synchronously: no promise on the hot path
    if (!(verdict instanceof Promise)) return admit(verdict, policy);
    return verdict.then((verified) => admit(verified, policy));
  }
}

function admit({ token, principal }: VerifiedToken, policy: AccessPolicy): true {
  assertPolicyMet(principal, policy);
  recordCaller(token, principal);
  return true;
}
