import type { OtlpSink } from '../observability/otlp-sink';
import type { BenchChild } from './child';
import type { FigureSink } from './figures';
import type { TokenWorld } from './issuer';
import type { BenchOptions } from './options';
import type { TargetReady } from '../targets/target-config';

/** What every section gets. */
export interface BenchContext {
  options: BenchOptions;
  sink: FigureSink;
  world: TokenWorld;
  /** Where targets with tracing export their spans. */
  otlpSink?: OtlpSink;
}

/** The two forked targets of the HTTP and NATS sections. */
export interface Targets {
  /** Nest app (Fastify + NATS) wired like the Relay apps, with guarded and `@Public()` handlers. */
  nest: BenchChild<TargetReady>;
  /** node:http server and raw nats.js responder: the ceilings. */
  raw: BenchChild<TargetReady>;
}
