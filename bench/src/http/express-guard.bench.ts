import type { BenchContext } from '../core/context';
import { type AlternatingResult, runAlternatingRounds } from '../core/alternating';
import type { BenchChild } from '../core/child';
import { type HttpScenario, runHttpLoad } from '../core/http-load';
import { profileGuardScenarios } from '../core/guard-figures';
import { median, round } from '../core/stats';
import { profileTarget } from '../targets/profile-target';
import { startExpressTarget } from '../targets/start-targets';
import { BenchPaths, type TargetReady } from '../targets/target-config';
import { runAlternatingHttpCpu, type VariantCpu } from './phase-cpu';

const PREFIX = 'http.express';

/**
 * The guard's cost on Nest's Express adapter: the same Nest target (same module, same handlers) on
 * Express, started once the Fastify figures are taken and stopped at the end. Only the judged
 * measurement runs here, the guarded and `@Public()` routes alternating every 100 ms: it gives the
 * ratio, each route's requests/s (of its own phases) and the target's CPU per request of each route,
 * without the Fastify part's separate runs (the bench's time budget).
 */
export async function benchExpressGuard(context: BenchContext, warmGoal: number): Promise<void> {
  const express = await startExpressTarget(context);
  try {
    await measure(context, express, warmGoal);
  } finally {
    await express.stop();
  }
}

async function measure(
  context: BenchContext,
  express: BenchChild<TargetReady>,
  warmGoal: number,
): Promise<void> {
  const { options, sink, world } = context;
  const headers = { authorization: `Bearer ${world.warmToken}` };
  const url = express.ready.httpUrl;
  const byName = {
    public: { url: `${url}${BenchPaths.public}`, headers },
    'guarded.warm': { url: `${url}${BenchPaths.guarded}`, headers },
    // profiled with --profile only, as on Fastify
    'guarded.cold': {
      url: `${url}${BenchPaths.guarded}`,
      perRequest: () => ({ headers: { authorization: `Bearer ${world.pool.next()}` } }),
    },
  } satisfies Record<string, HttpScenario>;
  const pid = express.process.pid;
  const alternate = (seconds: number) =>
    runAlternatingHttpCpu(byName.public, byName['guarded.warm'], options.connections, seconds, pid);
  // each route warms up as long as each Fastify scenario does (the alternating warm-up halves it)
  await alternate(2 * options.warmupSeconds);
  const cpuRounds: VariantCpu[] = [];
  const summary = await runAlternatingRounds(
    async (seconds) => {
      const result = await alternate(seconds);
      if (result.cpu !== undefined) cpuRounds.push(result.cpu);
      return result;
    },
    // 6 s rounds (Fastify's are 8 s) keep the full run within its 10 minutes
    { runs: options.runs, seconds: Math.min(options.alternatingSeconds, 6) },
    'express guarded.warm / public',
  );
  const failures = summary.rounds.reduce((sum, result) => sum + result.failures, 0);
  if (failures > 0) sink.note(`${PREFIX}.guarded.warm.ratio: ${failures} failed requests`);
  const warm = sink.judged(
    `${PREFIX}.guarded.warm.ratio`,
    round(summary.ratio, 3),
    `x ${PREFIX}.public.rps, alternating`,
    `>= ${warmGoal}`,
    summary.ratio >= warmGoal && failures === 0,
  );
  const perSecond = (of: (result: AlternatingResult) => number): number =>
    round(median(summary.rounds.map(of)), 0);
  sink.info(
    `${PREFIX}.public.rps`,
    perSecond((result) => result.aPerSecond),
    'requests/s of its phases',
  );
  sink.info(
    `${PREFIX}.guarded.warm.rps`,
    perSecond((result) => result.bPerSecond),
    'requests/s of its phases',
  );
  if (cpuRounds.length > 0) {
    const cpu = (pick: (cpu: VariantCpu) => number): number => round(median(cpuRounds.map(pick)), 1);
    sink.info(
      `${PREFIX}.public.target_cpu`,
      cpu((perCall) => perCall.a),
      'µs CPU per request',
    );
    sink.info(
      `${PREFIX}.guarded.warm.target_cpu`,
      cpu((perCall) => perCall.b),
      'µs CPU per request',
    );
    sink.info(
      `${PREFIX}.guarded.warm.cpu_cost`,
      cpu((perCall) => perCall.b - perCall.a),
      `µs CPU per request over ${PREFIX}.public`,
    );
  }
  const profileSeconds = options.mode === 'quick' ? 1 : 4;
  await profileGuardScenarios(options, warm, async (name) => {
    if (name === 'raw') return;
    await profileTarget(context, express, `http express ${name} profile`, () =>
      runHttpLoad(byName[name], options.connections, profileSeconds),
    );
  });
}
