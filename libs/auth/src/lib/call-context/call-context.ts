import { AsyncLocalStorage } from 'node:async_hooks';
import { channel } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';

import {
  type Attributes,
  type Context,
  context as otelContext,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
} from '@opentelemetry/api';

import { MessageHeaders } from '@relay/contracts';

import type { Principal } from '../access-token/access-token';
import {
  continueRequestId,
  extractParent,
  injectTraceHeaders,
  newRootContext,
  spanOf,
  startCallSpan,
} from './trace-context';

/** How the token of a call fared: not checked (`@Public()`), accepted, refused (401) or short of a role or scope (403). */
export type TokenVerdict = 'none' | 'accepted' | 'refused' | 'forbidden';

/** The transport a call came in on. */
export type CallTransport = 'http' | 'nats' | 'internal';

/** What the current HTTP request or NATS message carries on behalf of its caller. */
export interface CallContextState {
  /** The caller's verified access token (absent on `@Public()` calls without one). */
  readonly token?: string;
  /** The verified caller. */
  readonly principal?: Principal;
  /** W3C trace id continued from the incoming `traceparent`, or started here. */
  readonly traceId: string;
  /** The span id of this call (its server span). */
  readonly spanId: string;
  /** Incoming `x-request-id`, or a new UUID. */
  readonly requestId: string;
  /** What became of the call's token so far. */
  readonly verdict: TokenVerdict;
}

/** What a call's transport hands over when it starts (raw header values, checked here). */
export interface IncomingCall {
  token?: string;
  principal?: Principal;
  traceparent?: string;
  tracestate?: string;
  requestId?: string;
  /** Default: `internal` (a call started by the app itself, e.g. a job or a test). */
  transport?: CallTransport;
  /** The span name: `POST /orders`, a NATS subject. Default: `internal`. */
  name?: string;
  /** Default: `SERVER` for HTTP and NATS, `INTERNAL` otherwise. */
  kind?: SpanKind;
  attributes?: Attributes;
}

/**
 * One finished HTTP request or NATS message, as published on {@link CALL_FINISHED_CHANNEL}: what an
 * access log line or a metric needs, and never the token.
 */
export interface FinishedCall {
  readonly transport: CallTransport;
  /** `POST /orders` (the route's template, never its ids), or the NATS subject. */
  readonly name: string;
  /** HTTP status; on NATS 200 for an answer, else the err status. */
  readonly status: number;
  readonly durationMs: number;
  readonly verdict: TokenVerdict;
  /** Whether the verifier answered from its cache (only meaningful when a token was checked). */
  readonly cacheHit: boolean;
  readonly requestId: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly principal?: Principal;
}

/**
 * `node:diagnostics_channel` name on which every finished HTTP request and NATS message is published
 * as a {@link FinishedCall}; an app's access log and metrics subscribe to it. Nothing is built for it
 * while no one subscribes.
 */
export const CALL_FINISHED_CHANNEL = 'relay.auth.call-finished';
const callFinished = channel(CALL_FINISHED_CHANNEL);

// one object per call, created at the transport edge; the guard fills in the caller once verified
interface CallState extends CallContextState {
  token: string | undefined;
  principal: Principal | undefined;
  verdict: TokenVerdict;
  cacheHit: boolean;
  /** The NATS err status the exception filter answered with (HTTP reads it from the response). */
  status: number | undefined;
  /** Set by the first `end()`: a call ends once (an aborted request may report its end twice). */
  isEnded: boolean;
  readonly transport: CallTransport;
  readonly name: string;
  readonly otel: Context;
  readonly span: Span;
  readonly startedAt: number;
}

const storage = new AsyncLocalStorage<CallState>();

/**
 * The per-call context (AsyncLocalStorage). Each HTTP request (Fastify hooks or an Express middleware
 * that `AuthModule` installs) and NATS message (`natsMicroserviceOptions`' processing hook) runs in its
 * own, with its own OpenTelemetry server span; `AccessTokenGuard` records the verified caller in it.
 */
export class CallContext {
  /** The context of the running call, if any. */
  static current(): CallContextState | undefined {
    return storage.getStore();
  }

  /**
   * Runs `work` outside any call, and what it sets going too: background work a call starts (a retry
   * loop, a refresh others will share) must not log or trace as that caller, nor send its token.
   */
  static detached<T>(work: () => T): T {
    return otelContext.with(ROOT_CONTEXT, () => storage.exit(work));
  }

  /** Runs `work` as one call built from incoming `traceparent` / `x-request-id` values; its span ends when `work` settles. */
  static run<T>(incoming: IncomingCall, work: () => T): T {
    const call = CallContext.begin(incoming);
    let result: T;
    try {
      result = CallContext.enter(call, work);
    } catch (error) {
      CallContext.end(call, 500);
      throw error;
    }
    if (result instanceof Promise) {
      result.then(
        () => CallContext.end(call, 200),
        () => CallContext.end(call, 500),
      );
    } else {
      CallContext.end(call, 200);
    }
    return result;
  }

  /** A transport edge's first step: the call's state and its span (started now). */
  static begin(incoming: IncomingCall): CallHandle {
    const transport = incoming.transport ?? 'internal';
    const parent = extractParent(incoming);
    const otel = startCallSpan(
      incoming.name ?? 'internal',
      incoming.kind ?? (transport === 'internal' ? SpanKind.INTERNAL : SpanKind.SERVER),
      parent,
      incoming.attributes,
    );
    const span = spanOf(otel);
    const { traceId, spanId } = span.spanContext();
    const requestId = continueRequestId(incoming.requestId);
    if (span.isRecording()) span.setAttribute('relay.request_id', requestId);
    const state: CallState = {
      token: incoming.token,
      principal: incoming.principal,
      traceId,
      spanId,
      requestId,
      verdict: 'none',
      cacheHit: false,
      status: undefined,
      isEnded: false,
      transport,
      name: incoming.name ?? 'internal',
      otel,
      span,
      startedAt: performance.now(),
    };
    return state;
  }

  /** Runs `work` inside the call (its AsyncLocalStorage context and its OpenTelemetry context). */
  static enter<T>(call: CallHandle, work: () => T): T {
    const state = call as CallState;
    return otelContext.with(state.otel, () => storage.run(state, work));
  }

  /**
   * A transport edge's last step: ends the call's span with its status and publishes the
   * {@link FinishedCall}. `status` is the HTTP status (499 for a request its client gave up on); on
   * NATS, omit it: the err status recorded by the exception filter, else 200. Only the first call counts.
   */
  static end(call: CallHandle, status?: number, name?: string): void {
    const state = call as CallState;
    if (state.isEnded) return;
    state.isEnded = true;
    const finalStatus = status ?? state.status ?? 200;
    const durationMs = performance.now() - state.startedAt;
    const span = state.span;
    if (span.isRecording()) {
      if (name !== undefined) span.updateName(name);
      span.setAttribute('relay.token.verdict', state.verdict);
      if (state.principal !== undefined) span.setAttribute('enduser.id', state.principal.subject);
      if (state.transport === 'http') span.setAttribute('http.response.status_code', finalStatus);
      else span.setAttribute('rpc.response.status_code', finalStatus);
      if (finalStatus >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    if (callFinished.hasSubscribers && state.transport !== 'internal') {
      const finished: FinishedCall = {
        transport: state.transport,
        name: name ?? state.name,
        status: finalStatus,
        durationMs,
        verdict: state.verdict,
        cacheHit: state.cacheHit,
        requestId: state.requestId,
        traceId: state.traceId,
        spanId: state.spanId,
        principal: state.principal,
      };
      callFinished.publish(finished);
    }
  }

  /**
   * `traceparent` (and `tracestate`) and `x-request-id` for one outgoing call, whatever token it
   * carries: `context` names its span (a client span the caller started), else the running call's
   * span is the parent. Outside a call: a new trace and request id.
   */
  static traceHeaders(context?: Context): Record<string, string> {
    const state = storage.getStore();
    const headers: Record<string, string> = {};
    // outside a call: a new trace that records nothing (no span started here would ever be ended)
    injectTraceHeaders(context ?? state?.otel ?? newRootContext(), headers);
    headers[MessageHeaders.requestId] = state?.requestId ?? continueRequestId(undefined);
    return headers;
  }

  /** The OpenTelemetry context of the running call (the root context outside one). */
  static otelContext(): Context {
    return storage.getStore()?.otel ?? ROOT_CONTEXT;
  }
}

/** A call begun by {@link CallContext.begin}: opaque outside this module. */
export type CallHandle = CallContextState & { readonly __callHandle?: never };

/**
 * Records the verified caller on the running call (`AccessTokenGuard`, the passport strategy).
 * A call without a context is a wiring error, refused rather than authenticated without propagation.
 */
export function recordCaller(token: string, principal: Principal, cacheHit = false): void {
  const state = storage.getStore();
  if (state === undefined) {
    throw new Error(
      '@relay/auth: a call reached AccessTokenGuard without a call context. HTTP needs the Fastify or Express ' +
        'adapter (AuthModule hooks it); NATS needs app.connectMicroservice(natsMicroserviceOptions(...)).',
    );
  }
  state.token = token;
  state.principal = principal;
  state.verdict = 'accepted';
  state.cacheHit = cacheHit;
}

/** Records a refused token (401) or a missing role or scope (403) on the running call, if any. */
export function recordRefusal(verdict: 'refused' | 'forbidden'): void {
  const state = storage.getStore();
  if (state !== undefined) state.verdict = verdict;
}

/**
 * Takes back the caller recorded on the running call: a check after the token's (an app's passport
 * `validate()`) refused it, so the call is nobody's and its token goes nowhere.
 */
export function withdrawCaller(): void {
  const state = storage.getStore();
  if (state === undefined) return;
  state.token = undefined;
  state.principal = undefined;
  state.verdict = 'refused';
  state.cacheHit = false;
}

/** Records the err status a NATS call is answered with (the exception filter), for its span and access line. */
export function recordRpcStatus(status: number): void {
  const state = storage.getStore();
  if (state !== undefined) state.status = status;
}
