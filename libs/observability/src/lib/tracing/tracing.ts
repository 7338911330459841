import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-node';

/**
 * The share of new traces (calls that arrive without a sampled parent) Relay records when
 * `OTEL_TRACES_SAMPLER` is unset. Recording every request cost the guarded route about half its
 * throughput in the bench (a span per call, per verification and per statement, each exported);
 * a caller's sampled flag is always honoured, so a traced client sees every hop of its calls.
 */
export const DEFAULT_ROOT_SAMPLE_RATIO = 0.1;

/** A started OpenTelemetry SDK: flush and stop it when the app shuts down. */
export interface Tracing {
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK for one service when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: spans are
 * batched and exported over OTLP/HTTP (JSON) to `<endpoint>/v1/traces`. Sampling as the standard
 * variables say (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`); unset, a caller's sampled flag is
 * honoured and {@link DEFAULT_ROOT_SAMPLE_RATIO} of new traces are recorded. Registers the AsyncLocalStorage context manager and the W3C
 * propagator globally, so `@relay/auth`'s spans (HTTP, NATS, token verification) and the database's
 * nest under one trace.
 *
 * Without the variable nothing is started and nothing is exported: the spans `@relay/auth` and
 * `@relay/database` open are the API's no-ops, and trace context still travels on every hop.
 */
export function startTracing(service: string, env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  const endpoint = env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  if (endpoint === undefined || endpoint === '') return undefined;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    ...defaultSampler(env),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(endpoint) }))],
  });
  provider.register();
  active = { shutdown: () => provider.shutdown() };
  return active;
}

let active: Tracing | undefined;

/** Flushes and stops the SDK {@link startTracing} started, if any (the app's shutdown). */
export async function stopTracing(): Promise<void> {
  const tracing = active;
  active = undefined;
  await tracing?.shutdown();
}

/** The sampler option of the SDK: none when `OTEL_TRACES_SAMPLER` is set (the SDK reads it), else a parent-based ratio. */
export function defaultSampler(env: NodeJS.ProcessEnv): { sampler?: Sampler } {
  const configured = env['OTEL_TRACES_SAMPLER'];
  if (configured !== undefined && configured !== '') return {};
  return {
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(DEFAULT_ROOT_SAMPLE_RATIO) }),
  };
}

// the OTLP/HTTP rule for the generic endpoint variable: the signal's path is appended to it
function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}
