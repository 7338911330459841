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

const storage = new AsyncLocalStorage<CallContextState>();

/** The per-call context (AsyncLocalStorage), set by `CallContextInterceptor` for each request/message. */
export class CallContext {
  /** The context of the running call, if any. */
  static current(): CallContextState | undefined {
    return storage.getStore();
  }

  /** Runs `work` inside a context built from incoming `traceparent` / `x-request-id` values. */
  static run<T>(
    incoming: { token?: string; principal?: Principal; traceparent?: string; requestId?: string },
    work: () => T,
  ): T {
    const state: CallContextState = {
      ...(incoming.token === undefined ? {} : { token: incoming.token }),
      ...(incoming.principal === undefined ? {} : { principal: incoming.principal }),
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
