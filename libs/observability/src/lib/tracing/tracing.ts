import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/** A started OpenTelemetry SDK: flush and stop it when the app shuts down. */
export interface Tracing {
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK for one service when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: spans are
 * batched and exported over OTLP/HTTP (JSON) to `<endpoint>/v1/traces`. Sampling as the standard
 * variables say (`OTEL_TRACES_SAMPLER`, default `parentbased_always_on`: a caller's sampled flag is
 * honoured, a new trace is recorded). Registers the AsyncLocalStorage context manager and the W3C
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

// the OTLP/HTTP rule for the generic endpoint variable: the signal's path is appended to it
function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}
