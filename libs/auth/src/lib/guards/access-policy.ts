import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';

import type { Role } from '@relay/contracts';

import { IS_PUBLIC_KEY } from '../decorators/public.decorator';
import { ROLES_KEY } from '../decorators/roles.decorator';
import { SCOPES_KEY } from '../decorators/scopes.decorator';

/** What a handler's `@Public()`, `@Roles()` and `@Scopes()` (on it or on its controller) ask of a caller. */
export interface AccessPolicy {
  readonly isPublic: boolean;
  /** Any one of these, when not empty. */
  readonly roles: readonly Role[];
  /** Every one of these. */
  readonly scopes: readonly string[];
}

// decorator metadata is fixed once a class is defined: read it once per (controller, handler), not
// with six reflect-metadata prototype walks on every call (about half a µs per request)
const policies = new WeakMap<object, WeakMap<object, AccessPolicy>>();

/** The access policy of the handler `context` is about to run (handler metadata overrides the controller's). */
export function accessPolicyOf(reflector: Reflector, context: ExecutionContext): AccessPolicy {
  const controller = context.getClass();
  const handler = context.getHandler();
  let byHandler = policies.get(controller);
  if (byHandler === undefined) {
    byHandler = new WeakMap();
    policies.set(controller, byHandler);
  }
  let policy = byHandler.get(handler);
  if (policy === undefined) {
    const targets = [handler, controller];
    policy = Object.freeze({
      isPublic: reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, targets) === true,
      roles: Object.freeze([...(reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets) ?? [])]),
      scopes: Object.freeze([
        ...(reflector.getAllAndOverride<string[] | undefined>(SCOPES_KEY, targets) ?? []),
      ]),
    });
    byHandler.set(handler, policy);
  }
  return policy;
}
