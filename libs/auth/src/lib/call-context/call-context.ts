import { AsyncLocalStorage } from 'node:async_hooks';

import { MessageHeaders } from '@relay/contracts';

import type { Principal } from '../access-token/access-token';
import { childTraceparent, continueRequestId, continueTraceId } from './trace-context';

/** What the current HTTP request or NATS message carries on behalf of its caller. */
export interface CallContextState {
  /** The caller's verified access token (absent on `@Public()` calls without one). */
  readonly token?: string;
  /** The verified caller. */
  readonly principal?: Principal;
  /** W3C trace id continued from the incoming `traceparent`, or started here. */
  readonly traceId: string;
  /** Incoming `x-request-id`, or a new UUID. */
  readonly requestId: string;
}

/** What a call's transport hands over when it starts (raw header values, checked here). */
export interface IncomingCall {
  token?: string;
  principal?: Principal;
  traceparent?: string;
  requestId?: string;
}

// one object per call, created at the transport edge; the guard fills in the caller once verified
interface CallState {
  token: string | undefined;
  principal: Principal | undefined;
  traceId: string;
  requestId: string;
}

const storage = new AsyncLocalStorage<CallState>();

/**
 * The per-call context (AsyncLocalStorage). Each HTTP request (a Fastify `preHandler` hook or an
 * Express middleware that `AuthModule` installs) and NATS message (`natsMicroserviceOptions`' processing hook) runs in its
 * own; `AccessTokenGuard` records the verified caller in it.
 */
export class CallContext {
  /** The context of the running call, if any. */
  static current(): CallContextState | undefined {
    return storage.getStore();
  }

  /** Runs `work` inside a new context built from incoming `traceparent` / `x-request-id` values. */
  static run<T>(incoming: IncomingCall, work: () => T): T {
    // every field present from the start: one object shape, whether or not a guard fills in the caller
    const state: CallState = {
      token: incoming.token,
      principal: incoming.principal,
      traceId: continueTraceId(incoming.traceparent),
      requestId: continueRequestId(incoming.requestId),
    };
    return storage.run(state, work);
  }

  /**
   * Headers for one outgoing NATS message: `authorization` (when the call has a token),
   * `traceparent` (same trace id, new span id) and `x-request-id`. Outside a call: a new trace.
   */
  static toNatsHeaders(): Record<string, string> {
    const state = storage.getStore();
    const headers = CallContext.traceHeaders();
    if (state?.token !== undefined) headers[MessageHeaders.authorization] = `Bearer ${state.token}`;
    return headers;
  }

  /**
   * `traceparent` (same trace id, new span id) and `x-request-id` for one outgoing call, whatever
   * token it carries. Outside a call: a new trace and request id.
   */
  static traceHeaders(): Record<string, string> {
    const state = storage.getStore();
    return {
      [MessageHeaders.traceparent]: childTraceparent(state?.traceId ?? continueTraceId(undefined)),
      [MessageHeaders.requestId]: state?.requestId ?? continueRequestId(undefined),
    };
  }
}

/**
 * Records the verified caller on the running call (`AccessTokenGuard`, the passport strategy).
 * A call without a context is a wiring error, refused rather than authenticated without propagation.
 */
export function recordCaller(token: string, principal: Principal): void {
  const state = storage.getStore();
  if (state === undefined) {
    throw new Error(
      '@relay/auth: a call reached AccessTokenGuard without a call context. HTTP needs the Fastify or Express ' +
        'adapter (AuthModule hooks it); NATS needs app.connectMicroservice(natsMicroserviceOptions(...)).',
    );
  }
  state.token = token;
  state.principal = principal;
}
