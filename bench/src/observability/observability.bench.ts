import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import { CallContext, RelayNatsClient } from '@relay/auth';
import { DEFAULT_ROOT_SAMPLE_RATIO } from '@relay/observability';

import { type BenchChild, forkTarget } from '../core/child';
import { runClosedLoop } from '../core/closed-loop';
import type { BenchContext } from '../core/context';
import { createDriver } from '../core/driver';
import { runHttpLoad } from '../core/http-load';
import { runRounds, type Scenario, type ScenarioSummary } from '../core/rounds';
import { median, round } from '../core/stats';
import { withTargetCpu } from '../core/target-cpu';
import { targetEnv } from '../targets/start-targets';
import { BenchPaths, type TargetObservability, type TargetReady } from '../targets/target-config';
import type { OtlpSink } from './otlp-sink';

const TIMEOUT_MS = 10_000;
const VARIANTS = ['off', 'logs', 'metrics', 'tracing', 'all'] as const;
type Variant = (typeof VARIANTS)[number];

interface VariantTarget {
  variant: Variant;
  child: BenchChild<TargetReady>;
  subject: string;
}

/**
 * What each part of Relay's observability costs a guarded call: five copies of the Nest target,
 * with nothing, JSON logs only, metrics only, tracing only (the SDK at its default sampling,
 * exporting every span to `sink`) and all three (what a Relay app runs), each loaded in turn with
 * the same warm token over HTTP and over NATS. Reported as each variant's throughput over the one
 * without (`observability.<transport>.<variant>.ratio`; 1 − ratio is its cost) and the target CPU
 * per call it adds. The HTTP and NATS sections' targets run with all three on, so their judged
 * goals hold with observability on.
 */
export async function benchObservability(context: BenchContext, sink: OtlpSink): Promise<void> {
  const { options, world } = context;
  const targets = await startVariantTargets(context, sink);
  const driver = await createDriver(world);
  try {
    await warmUp(targets, world.warmToken);
    const relay = driver.get(RelayNatsClient);
    // priced, not judged: two rounds in a full run keep the bench within its 10 minutes
    const rounds = { runs: Math.min(options.runs, 2), warmupSeconds: options.warmupSeconds };
    const http = await runRounds(
      targets.map(({ variant, child }) =>
        withTargetCpu(
          {
            name: variant,
            run: (seconds) =>
              runHttpLoad(
                {
                  url: `${child.ready.httpUrl}${BenchPaths.guarded}`,
                  headers: { authorization: `Bearer ${world.warmToken}` },
                },
                options.connections,
                seconds,
              ),
          },
          child.process.pid,
        ),
      ),
      { ...rounds, seconds: options.mode === 'quick' ? 0.5 : 1.5 },
    );
    report(context, 'http', http);
    const nats = await runRounds(
      targets.map(({ variant, child, subject }) =>
        withTargetCpu(
          natsScenario(variant, relay, subject, world.warmToken, options.connections),
          child.process.pid,
        ),
      ),
      { ...rounds, seconds: options.mode === 'quick' ? 0.5 : 1.5 },
    );
    report(context, 'nats', nats);
    const exported = sink.received();
    context.sink.info('observability.otlp.exports', exported.requests, 'OTLP export requests received');
    context.sink.info(
      'observability.otlp.mib',
      round(exported.bytes / 1_048_576, 1),
      'MiB of spans received',
    );
  } finally {
    await driver.close();
    await Promise.all(targets.map(({ child }) => child.stop()));
  }
}

async function startVariantTargets(context: BenchContext, sink: OtlpSink): Promise<VariantTarget[]> {
  const started = await Promise.allSettled(
    VARIANTS.map(async (variant): Promise<VariantTarget> => {
      const subjects = { guarded: `bench.obs.${variant}.guarded`, public: `bench.obs.${variant}.public` };
      const child = await forkTarget<TargetReady>(
        `obs-${variant}`,
        join(__dirname, '../targets/nest-target.ts'),
        {
          env: targetEnv(context.world, { subjects, observability: observabilityOf(variant, sink) }),
        },
      );
      return { variant, child, subject: subjects.guarded };
    }),
  );
  const targets = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = started.find((result) => result.status === 'rejected');
  if (failure !== undefined) {
    await Promise.all(targets.map(({ child }) => child.stop()));
    throw failure.reason;
  }
  return targets;
}

/** The parts a variant runs; `all` is what every Relay app runs. */
export function observabilityOf(variant: Variant, sink: OtlpSink): TargetObservability {
  const tracing = variant === 'tracing' || variant === 'all';
  return {
    logs: variant === 'logs' || variant === 'all',
    metrics: variant === 'metrics' || variant === 'all',
    ...(tracing ? { otlpEndpoint: sink.endpoint } : {}),
  };
}

// a token is cached on its second acceptance: two calls per transport make every variant warm
async function warmUp(targets: VariantTarget[], token: string): Promise<void> {
  for (const { child } of targets) {
    for (let call = 0; call < 2; call += 1) {
      const response = await fetch(`${child.ready.httpUrl}${BenchPaths.guarded}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (response.status !== 200) throw new Error(`bench: ${child.name} answered ${response.status}`);
    }
  }
}

// The hop as a Relay caller makes it: a `traceparent` per call, flagged sampled as often as a Relay
// service samples new traces (the bench process runs no SDK: without any flag the target's
// parent-based sampler would record no hop and tracing would look free)
function natsScenario(
  variant: Variant,
  relay: RelayNatsClient,
  subject: string,
  token: string,
  connections: number,
): Scenario {
  const call = (): Promise<unknown> =>
    CallContext.run({ token, traceparent: callerTraceparent() }, () =>
      relay.send(subject, {}, { timeoutMs: TIMEOUT_MS }),
    );
  return { name: variant, run: (seconds) => runClosedLoop(call, connections, seconds) };
}

function callerTraceparent(): string {
  const ids = randomBytes(24).toString('hex');
  const flags = Math.random() < DEFAULT_ROOT_SAMPLE_RATIO ? '01' : '00';
  return `00-${ids.slice(0, 32)}-${ids.slice(32, 48)}-${flags}`;
}

function report(
  context: BenchContext,
  transport: 'http' | 'nats',
  results: Map<string, ScenarioSummary>,
): void {
  const off = results.get('off');
  if (off === undefined) return;
  for (const variant of VARIANTS) {
    const summary = results.get(variant);
    if (summary === undefined) continue;
    const prefix = `observability.${transport}.${variant}`;
    context.sink.info(`${prefix}.rps`, round(summary.rps, 0), 'requests/s');
    context.sink.info(`${prefix}.p99`, round(summary.p99), 'ms');
    const cpu = median(summary.cpuRounds);
    if (!Number.isNaN(cpu)) context.sink.info(`${prefix}.target_cpu`, round(cpu, 1), 'µs CPU per call');
    if (variant === 'off') continue;
    // per round, as the rounds ran side by side: the machine's drift cancels out
    const ratio = median(summary.rounds.map((rps, index) => rps / (off.rounds[index] ?? Number.NaN)));
    context.sink.info(`${prefix}.ratio`, round(ratio, 3), `of the ${transport} rate without observability`);
  }
}
