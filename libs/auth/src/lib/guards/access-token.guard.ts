import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Span } from '@opentelemetry/api';

import { MessageHeaders } from '@relay/contracts';

import { AccessTokenVerifier, type VerifiedToken } from '../access-token/access-token-verifier';
import { readCallHeader } from '../call-context/call-carrier';
import { recordCaller, recordRefusal } from '../call-context/call-context';
import { endAccepted, endRefused, startVerificationSpan } from '../telemetry/verification-span';
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
    // NATS is the only RPC transport Relay serves: named as FinishedCall names it
    const span = startVerificationSpan(context.getType() === 'rpc' ? 'nats' : context.getType());
    const header = readCallHeader(context, MessageHeaders.authorization);
    let verdict: VerifiedToken | Promise<VerifiedToken>;
    try {
      verdict = this.verifier.verifyBearer(header);
    } catch (error) {
      return refuse(error, span, header);
    }
    // a repeated token is answered synchronously (from the cache): no promise on the hot path
    if (!(verdict instanceof Promise)) return admit(verdict, policy, span, true);
    return verdict.then(
      (verified) => admit(verified, policy, span, false),
      (error: unknown) => refuse(error, span, header),
    );
  }
}

function admit(verified: VerifiedToken, policy: AccessPolicy, span: Span, cacheHit: boolean): true {
  const { token, principal } = verified;
  try {
    assertPolicyMet(principal, policy);
  } catch (error) {
    recordRefusal('forbidden');
    endRefused(span, 'forbidden', error, token);
    throw error;
  }
  recordCaller(token, principal, cacheHit);
  endAccepted(span, verified, cacheHit);
  return true;
}

function refuse(error: unknown, span: Span, header: string | string[] | undefined): never {
  recordRefusal('refused');
  endRefused(span, 'refused', error, compactBearerToken(header));
  throw error;
}

// The refused token, for its fingerprint and key id, only when the header holds a compact JWS: a
// hash of anything else (a Basic credential, a password pasted into the header) stays out of traces
const COMPACT_BEARER = /^\s*bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)\s*$/i;

function compactBearerToken(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' ? COMPACT_BEARER.exec(header)?.[1] : undefined;
}
