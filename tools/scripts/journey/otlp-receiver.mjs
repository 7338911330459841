// Called by tools/scripts/journey/journey-server.mjs: keeps the spans the Relay apps export over OTLP/HTTP (JSON).
import { gunzipSync } from 'node:zlib';

/** OTLP's SpanKind enum (opentelemetry-proto trace.proto), as the JSON encoding sends it. */
const SPAN_KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];

/** Largest export request accepted (the SDK batches at most 512 spans, well under this). */
export const MAX_EXPORT_BYTES = 4 * 1024 * 1024;

/**
 * The last traces the apps exported, in memory and bounded: at most `maxTraces` traces (the one
 * updated longest ago goes first) of at most `maxSpansPerTrace` spans each. A demo runs for hours
 * with health probes making a trace each; the page only ever asks for the traces it just started.
 */
export class TraceStore {
  /** @type {Map<string, Map<string, Span>>} trace id → span id → span, least recently updated first */
  #traces = new Map();

  constructor({ maxTraces = 500, maxSpansPerTrace = 1000 } = {}) {
    this.maxTraces = maxTraces;
    this.maxSpansPerTrace = maxSpansPerTrace;
  }

  /** How many traces are held. */
  get size() {
    return this.#traces.size;
  }

  /** Adds spans (a span exported twice is kept once); returns how many were kept. */
  add(spans) {
    let kept = 0;
    for (const span of spans) {
      const trace = this.#traceFor(span.traceId);
      if (trace.size >= this.maxSpansPerTrace && !trace.has(span.spanId)) continue;
      trace.set(span.spanId, span);
      kept += 1;
    }
    return kept;
  }

  /** The spans of one trace, by start time; `[]` for a trace never seen (or evicted). */
  spansOf(traceId) {
    const trace = this.#traces.get(traceId.toLowerCase());
    if (trace === undefined) return [];
    return [...trace.values()].sort((a, b) => a.startMs - b.startMs);
  }

  #traceFor(traceId) {
    let trace = this.#traces.get(traceId);
    if (trace === undefined) {
      trace = new Map();
    } else {
      this.#traces.delete(traceId); // re-inserted below: now the most recently updated
    }
    this.#traces.set(traceId, trace);
    while (this.#traces.size > this.maxTraces) {
      this.#traces.delete(this.#traces.keys().next().value);
    }
    return trace;
  }
}

/**
 * @typedef {object} Span
 * @property {string} traceId 32 lower-case hex digits
 * @property {string} spanId 16 lower-case hex digits
 * @property {string | undefined} parentSpanId
 * @property {string} name
 * @property {string} kind internal | server | client | producer | consumer | unspecified
 * @property {string} service the resource's `service.name`
 * @property {number} startMs epoch milliseconds (fractional)
 * @property {number} durationMs
 * @property {Record<string, string | number | boolean | Array<string | number | boolean>>} attributes
 * @property {boolean} isError status code ERROR
 */

/**
 * Flattens one OTLP/HTTP JSON export request (`ExportTraceServiceRequest`) into spans with their
 * service name. Spans without a well-formed trace and span id are skipped, not trusted.
 */
export function spansFromExport(request) {
  const spans = [];
  for (const resourceSpans of arrayOf(request?.resourceSpans)) {
    const resource = attributesOf(resourceSpans?.resource?.attributes);
    const service = typeof resource['service.name'] === 'string' ? resource['service.name'] : 'unknown';
    for (const scopeSpans of arrayOf(resourceSpans?.scopeSpans)) {
      for (const raw of arrayOf(scopeSpans?.spans)) {
        const span = spanOf(raw, service);
        if (span !== undefined) spans.push(span);
      }
    }
  }
  return spans;
}

/**
 * Handles `POST /v1/traces`: JSON (optionally gzip), at most {@link MAX_EXPORT_BYTES}. Answers 200
 * `{}` (a full success), 400 for a body that is not an export request, 413 when too large, 415 for
 * protobuf (the apps export JSON).
 */
export async function receiveExport(request, response, store) {
  const type = String(request.headers['content-type'] ?? '')
    .split(';')[0]
    .trim();
  if (type !== 'application/json') {
    return answer(response, 415, { error: 'only OTLP/HTTP JSON (application/json) is accepted' });
  }
  let body;
  try {
    body = await readBody(request, MAX_EXPORT_BYTES);
    if (request.headers['content-encoding'] === 'gzip')
      body = gunzipSync(body, { maxOutputLength: MAX_EXPORT_BYTES });
  } catch (error) {
    return answer(response, error instanceof TooLargeError ? 413 : 400, { error: errorMessage(error) });
  }
  let parsed;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return answer(response, 400, { error: 'the body is not JSON' });
  }
  store.add(spansFromExport(parsed));
  return answer(response, 200, {});
}

class TooLargeError extends Error {}

/** Reads a request body up to `limit` bytes; rejects with TooLargeError past it. */
export function readBody(request, limit) {
  return new Promise((done, fail) => {
    const chunks = [];
    let length = 0;
    request.on('data', (chunk) => {
      length += chunk.length;
      if (length > limit) {
        fail(new TooLargeError(`the body is over ${limit} bytes`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.once('end', () => done(Buffer.concat(chunks)));
    request.once('error', fail);
  });
}

function answer(response, status, body) {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function errorMessage(error) {
  return error instanceof Error ? error.message : String(error);
}

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;

function spanOf(raw, service) {
  const traceId = String(raw?.traceId ?? '').toLowerCase();
  const spanId = String(raw?.spanId ?? '').toLowerCase();
  if (!TRACE_ID.test(traceId) || !SPAN_ID.test(spanId)) return undefined;
  const parent = String(raw.parentSpanId ?? '').toLowerCase();
  const start = nanos(raw.startTimeUnixNano);
  const end = nanos(raw.endTimeUnixNano);
  return {
    traceId,
    spanId,
    parentSpanId: SPAN_ID.test(parent) ? parent : undefined,
    name: String(raw.name ?? ''),
    kind: kindOf(raw.kind),
    service,
    startMs: Number(start) / 1e6,
    durationMs: end >= start ? Number(end - start) / 1e6 : 0,
    attributes: attributesOf(raw.attributes),
    isError: raw.status?.code === 2 || raw.status?.code === 'STATUS_CODE_ERROR',
  };
}

// the JSON encoding sends the enum as its number; some exporters send its name
function kindOf(kind) {
  if (typeof kind === 'number') return SPAN_KINDS[kind] ?? 'unspecified';
  const name = String(kind ?? '')
    .toLowerCase()
    .replace(/^span_kind_/, '');
  return SPAN_KINDS.includes(name) ? name : 'unspecified';
}

// fixed64 as a decimal string (the spec), a number, or the {low, high} halves older JS exporters sent
function nanos(value) {
  try {
    if (typeof value === 'string' || typeof value === 'number') return BigInt(value);
    if (value && typeof value === 'object' && 'low' in value && 'high' in value) {
      return (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
    }
  } catch {
    // a malformed time counts as 0, the span is still shown
  }
  return 0n;
}

function attributesOf(list) {
  const attributes = {};
  for (const entry of arrayOf(list)) {
    if (typeof entry?.key !== 'string') continue;
    const value = valueOf(entry.value);
    if (value !== undefined) attributes[entry.key] = value;
  }
  return attributes;
}

function valueOf(value) {
  if (value === null || typeof value !== 'object') return undefined;
  if ('stringValue' in value) return String(value.stringValue);
  if ('boolValue' in value) return value.boolValue === true;
  if ('intValue' in value) return Number(value.intValue);
  if ('doubleValue' in value) return Number(value.doubleValue);
  if ('arrayValue' in value) {
    return arrayOf(value.arrayValue?.values)
      .map(valueOf)
      .filter((item) => item !== undefined && typeof item !== 'object');
  }
  return undefined;
}

function arrayOf(value) {
  return Array.isArray(value) ? value : [];
}
