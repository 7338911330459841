import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

import { eventually } from './relay-client';

/** OTLP's span kinds as the JSON encoding numbers them (the API's `SpanKind` plus one). */
export const OtlpSpanKind = {
  unspecified: 0,
  internal: 1,
  server: 2,
  client: 3,
  producer: 4,
  consumer: 5,
} as const;

/** An attribute value, flattened from OTLP's `AnyValue` (arrays stay arrays). */
export type AttributeValue = string | number | boolean | null | AttributeValue[];

/** One exported span, flattened: what a trace assertion needs. */
export interface ReceivedSpan {
  /** `service.name` of the resource that exported it. */
  service: string;
  traceId: string;
  spanId: string;
  /** Absent on a root span. */
  parentSpanId?: string;
  /** The W3C `tracestate` of the span's own context (the SDK copies the parent's). */
  traceState?: string;
  name: string;
  kind: number;
  attributes: Record<string, AttributeValue>;
}

// the parts of an OTLP/HTTP JSON ExportTraceServiceRequest read here
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: string;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  kind?: number;
  attributes?: OtlpKeyValue[];
}
interface ExportTraceServiceRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: { spans?: OtlpSpan[] }[];
  }[];
}

/**
 * An OTLP/HTTP trace receiver inside the test process: `POST /v1/traces` with a JSON
 * `ExportTraceServiceRequest` (gzip or not) is answered 200 and its spans are kept, flattened, for
 * a spec to assert on. Point an app at it with `OTEL_EXPORTER_OTLP_ENDPOINT` = {@link endpoint}.
 */
export class OtlpReceiver {
  private readonly received: ReceivedSpan[] = [];
  /** Requests that could not be read (wrong path, content type or body): a failing spec names them. */
  readonly rejected: string[] = [];

  private constructor(private readonly server: Server) {}

  /** Listens on a free port of 127.0.0.1. */
  static async start(): Promise<OtlpReceiver> {
    const server = createServer();
    const receiver = new OtlpReceiver(server);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      void receiver.handle(request, response);
    });
    await new Promise<void>((listening, failed) => {
      server.once('error', failed);
      server.listen(0, '127.0.0.1', () => listening());
    });
    return receiver;
  }

  /** The base URL for `OTEL_EXPORTER_OTLP_ENDPOINT` (the exporter appends `/v1/traces`). */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Every span received so far. */
  get spans(): readonly ReceivedSpan[] {
    return this.received;
  }

  /** The spans of one trace received so far. */
  trace(traceId: string): ReceivedSpan[] {
    return this.received.filter((span) => span.traceId === traceId);
  }

  /**
   * Waits until the spans of `traceId` satisfy `isComplete` (spans arrive batch by batch, from
   * three processes); throws after `timeoutMs` listing what did arrive.
   */
  async waitForTrace(
    traceId: string,
    isComplete: (spans: ReceivedSpan[]) => boolean,
    timeoutMs = 15_000,
  ): Promise<ReceivedSpan[]> {
    await eventually(
      () => Promise.resolve(isComplete(this.trace(traceId))),
      timeoutMs,
      () => `trace ${traceId} incomplete; received: ${describeSpans(this.trace(traceId))}`,
      50,
    );
    return this.trace(traceId);
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((done) => this.server.close(() => done()));
    // the exporters keep their connections alive; the apps are gone by now
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const what = `${request.method ?? '?'} ${request.url ?? '?'} (${request.headers['content-type'] ?? 'no content type'})`;
    try {
      const body = await readBody(request);
      if (request.method !== 'POST' || request.url !== '/v1/traces') throw new Error('not POST /v1/traces');
      if (!String(request.headers['content-type']).startsWith('application/json')) {
        throw new Error('not OTLP/HTTP JSON');
      }
      const raw = request.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
      this.received.push(...flatten(JSON.parse(raw.toString('utf8')) as ExportTraceServiceRequest));
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    } catch (error) {
      this.rejected.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      response.writeHead(400, { 'content-type': 'application/json' }).end('{}');
    }
  }
}

/** One line per span (service, kind, name, ids), for failure messages. */
export function describeSpans(spans: readonly ReceivedSpan[]): string {
  if (spans.length === 0) return 'no spans';
  return spans
    .map(
      (span) => `${span.service} ${span.kind} ${span.name} ${span.spanId} ← ${span.parentSpanId ?? 'root'}`,
    )
    .join('; ');
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((done, failed) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => done(Buffer.concat(chunks)));
    request.on('error', failed);
  });
}

function flatten(request: ExportTraceServiceRequest): ReceivedSpan[] {
  return (request.resourceSpans ?? []).flatMap((resourceSpans) => {
    const resource = attributesOf(resourceSpans.resource?.attributes);
    const service = typeof resource['service.name'] === 'string' ? resource['service.name'] : 'unknown';
    return (resourceSpans.scopeSpans ?? []).flatMap((scope) =>
      (scope.spans ?? []).map(
        (span): ReceivedSpan => ({
          service,
          traceId: span.traceId,
          spanId: span.spanId,
          // the JSON encoding may send an absent parent as ''
          ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
          ...(span.traceState ? { traceState: span.traceState } : {}),
          name: span.name,
          kind: span.kind ?? OtlpSpanKind.unspecified,
          attributes: attributesOf(span.attributes),
        }),
      ),
    );
  });
}

function attributesOf(keyValues: OtlpKeyValue[] | undefined): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = {};
  for (const { key, value } of keyValues ?? []) attributes[key] = valueOf(value);
  return attributes;
}

function valueOf(value: OtlpAnyValue | undefined): AttributeValue {
  if (value === undefined) return null;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(valueOf);
  if (value.kvlistValue !== undefined) {
    return (value.kvlistValue.values ?? []).map(({ key, value: inner }) => [key, valueOf(inner)]);
  }
  return value.bytesValue ?? null;
}
