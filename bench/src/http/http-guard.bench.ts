import type { BenchContext, Targets } from '../core/context';
import { type HttpScenario, runAlternatingHttp, runHttpLoad } from '../core/http-load';
import type { Scenario } from '../core/rounds';
import { measureGuardCost, profileGuardScenarios } from '../core/guard-figures';
import { withTargetCpu } from '../core/target-cpu';
import { profileTarget } from '../targets/profile-target';
import { BenchPaths } from '../targets/target-config';
import { reportColdToFloor, signatureFloorScenario } from '../verifier/signature-floor';
import { benchExpressGuard } from './express-guard.bench';

const WARM_GOAL = 0.9;

/**
 * HTTP guard cost: one Nest app, the same handler guarded and `@Public()`, autocannon with
 * `connections` connections; plus a raw node:http server (the ceiling). Every request carries the
 * same `Authorization` header, so only the guard's work differs. Then the same app on Nest's Express
 * adapter, judged against the same goal (`benchExpressGuard`): the library must be cheap on both.
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
  const { results, warm } = await measureGuardCost(sink, options, {
    prefix: 'http',
    scenarios: [...Object.entries(byName).map(toScenario), signatureFloorScenario(world)],
    seconds: options.httpSeconds,
    alternate: (seconds) =>
      runAlternatingHttp(byName['public'], byName['guarded.warm'], options.connections, seconds),
    warmGoal: WARM_GOAL,
  });
  reportColdToFloor(sink, 'http', results);
  const profileSeconds = options.mode === 'quick' ? 1 : 4;
  await profileGuardScenarios(options, warm, (name) =>
    profileTarget(context, targets.nest, `http ${name} profile`, () =>
      runHttpLoad(byName[name], options.connections, profileSeconds),
    ),
  );
  await benchExpressGuard(context, WARM_GOAL);
}
