import type { BenchContext, Targets } from '../core/context';
import { type HttpScenario, runHttpLoad } from '../core/http-load';
import { runRounds, type Scenario } from '../core/rounds';
import { median, round } from '../core/stats';
import { reportTargetCpu, withTargetCpu } from '../core/target-cpu';
import { profileTarget } from '../targets/profile-target';
import { BenchPaths } from '../targets/target-config';

const WARM_GOAL = 0.9;

/**
 * HTTP guard cost: one Nest app, the same handler guarded and `@Public()`, autocannon with
 * `connections` connections; plus a raw node:http server (the ceiling). Every request carries the
 * same `Authorization` header, so only the guard's work differs.
 */
export async function benchHttpGuard(context: BenchContext, targets: Targets): Promise<void> {
  const { options, sink, world } = context;
  const warmHeaders = { authorization: `Bearer ${world.warmToken}` };
  const nestUrl = targets.nest.ready.httpUrl;
  const byName: Record<string, HttpScenario> = {
    raw: { url: `${targets.raw.ready.httpUrl}${BenchPaths.public}`, headers: warmHeaders },
    public: { url: `${nestUrl}${BenchPaths.public}`, headers: warmHeaders },
    'guarded.warm': { url: `${nestUrl}${BenchPaths.guarded}`, headers: warmHeaders },
    'guarded.cold': {
      url: `${nestUrl}${BenchPaths.guarded}`,
      perRequest: () => ({ headers: { authorization: `Bearer ${world.pool.next()}` } }),
    },
  };
  const toScenario = ([name, scenario]: [string, HttpScenario]): Scenario =>
    withTargetCpu(
      { name, run: (seconds) => runHttpLoad(scenario, options.connections, seconds) },
      (name === 'raw' ? targets.raw : targets.nest).process.pid,
    );
  const results = await runRounds(Object.entries(byName).map(toScenario), {
    runs: options.runs,
    seconds: options.httpSeconds,
    warmupSeconds: options.warmupSeconds,
  });
  const get = (name: string) => {
    const summary = results.get(name);
    if (summary === undefined) throw new Error(`no result for ${name}`);
    return summary;
  };
  const ratio = (name: string): number =>
    median(get(name).rounds.map((rps, index) => rps / get('public').rounds[index]));
  for (const name of ['raw', 'public', 'guarded.warm', 'guarded.cold']) {
    const summary = get(name);
    sink.info(`http.${name}.rps`, round(summary.rps, 0), 'requests/s');
    sink.info(`http.${name}.p99`, round(summary.p99), 'ms');
    if (summary.failures > 0) sink.note(`http.${name}: ${summary.failures} failed requests`);
  }
  reportTargetCpu(sink, 'http', results);
  const warmRatio = ratio('guarded.warm');
  const warm = sink.judged(
    'http.guarded.warm.ratio',
    round(warmRatio, 3),
    'x http.public.rps',
    `>= ${WARM_GOAL}`,
    warmRatio >= WARM_GOAL && get('guarded.warm').failures === 0,
  );
  sink.info('http.guarded.cold.ratio', round(ratio('guarded.cold'), 3), 'x http.public.rps');
  sink.info(
    'http.public.ratio_to_raw',
    round(median(get('public').rounds.map((rps, index) => rps / get('raw').rounds[index])), 3),
    'x http.raw.rps',
  );
  if (context.signatureFloorPerSecond !== undefined) {
    // the cold case cannot beat one signature check per request on the target's single core
    sink.info(
      'http.guarded.cold.ratio_to_signature_floor',
      round(get('guarded.cold').rps / context.signatureFloorPerSecond, 3),
      'x verifier.jose.cold.ops',
    );
  }
  const profileSeconds = options.mode === 'quick' ? 1 : 4;
  const profile = (name: string): Promise<void> =>
    profileTarget(context, targets.nest, `http ${name} profile`, () =>
      runHttpLoad(byName[name], options.connections, profileSeconds),
    );
  // a smoke run's figures mean little: it profiles only when asked to
  if ((warm.met === false && options.mode === 'full') || options.profile) {
    await profile('guarded.warm');
    await profile('public');
  }
  if (options.profile) await profile('guarded.cold');
}
