import { randomFillSync, randomUUID } from 'node:crypto';

import {
  type Context,
  type Attributes,
  ROOT_CONTEXT,
  type Span,
  type SpanKind,
  type TextMapGetter,
  trace,
  TraceFlags,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ALL_ZEROS = /^0+$/;

/** The tracer behind every span `@relay/auth` records; a no-op until the app registers an OpenTelemetry SDK. */
export const tracer = trace.getTracer('@relay/auth');

// W3C Trace Context (`traceparent` + `tracestate`) whether or not the app registered an SDK: the
// contract names this format, and a service without tracing still carries its callers' context on
const propagator = new W3CTraceContextPropagator();

/** The incoming `traceparent` / `tracestate` of one call (raw header values, checked by the propagator). */
export interface TraceHeaders {
  traceparent?: string;
  tracestate?: string;
}

const traceHeadersGetter: TextMapGetter<TraceHeaders> = {
  get: (carrier, key) =>
    key === 'traceparent' ? carrier.traceparent : key === 'tracestate' ? carrier.tracestate : undefined,
  keys: () => ['traceparent', 'tracestate'],
};

/**
 * Starts the span of one call (a server span for an incoming call, a client span for an outgoing one)
 * as a child of `parent`, and returns the context that holds it.
 *
 * With an SDK registered the span is recorded (or not) as its sampler decides, honouring the parent's
 * sampled flag. Without one, the call continues its parent's span context unchanged (W3C's advice for
 * a participant that records nothing), and a call with no parent gets fresh ids, flagged not sampled:
 * nothing was recorded for it.
 */
export function startCallSpan(
  name: string,
  kind: SpanKind,
  parent: Context,
  attributes?: Attributes,
): Context {
  const span = tracer.startSpan(name, { kind, attributes }, parent);
  if (span.spanContext().traceId !== '00000000000000000000000000000000') return trace.setSpan(parent, span);
  return trace.setSpan(parent, newRootSpan());
}

/** The remote parent carried by `traceparent` / `tracestate`, or the root context when there is none (or it is invalid). */
export function extractParent(headers: TraceHeaders): Context {
  if (headers.traceparent === undefined) return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, headers, traceHeadersGetter);
}

/** `traceparent` (and `tracestate` when the trace has one) naming the span in `context`. */
export function injectTraceHeaders(context: Context, headers: Record<string, string>): void {
  propagator.inject(context, headers, {
    set: (carrier, key, value) => {
      carrier[key] = value;
    },
  });
}

/** The span of `context`. */
export function spanOf(context: Context): Span {
  return trace.getSpan(context) ?? trace.wrapSpanContext(newRootSpan().spanContext());
}

/** A context holding a new trace's span context, flagged not sampled: nothing is recorded for it. */
export function newRootContext(): Context {
  return trace.setSpan(ROOT_CONTEXT, newRootSpan());
}

function newRootSpan(): Span {
  return trace.wrapSpanContext({
    traceId: randomHexId(16),
    spanId: randomHexId(8),
    traceFlags: TraceFlags.NONE,
  });
}

/** The incoming `x-request-id` when it is a sane token, else a new UUID. */
export function continueRequestId(requestId: string | undefined): string {
  return requestId !== undefined && REQUEST_ID.test(requestId) ? requestId : randomUUID();
}

// CSPRNG bytes fetched 4 KiB at a time (as node's randomUUID does) instead of a synchronous
// randomBytes() call, ~3 µs, per id; every byte is handed out once.
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let poolOffset = POOL_BYTES;

/** `bytes` unpredictable bytes as lowercase hex, never all zeros (an invalid W3C trace or span id). */
export function randomHexId(bytes: number): string {
  for (;;) {
    if (poolOffset + bytes > POOL_BYTES) {
      randomFillSync(pool);
      poolOffset = 0;
    }
    const id = pool.toString('hex', poolOffset, poolOffset + bytes);
    poolOffset += bytes;
    if (!ALL_ZEROS.test(id)) return id;
  }
}
