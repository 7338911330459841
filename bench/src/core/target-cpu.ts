import { cpuTimes } from './child';
import type { FigureSink } from './figures';
import type { Scenario, ScenarioSummary } from './rounds';
import { median, round } from './stats';

/** `scenario` with the CPU time the process `pid` spends per successful call added to each result. */
export function withTargetCpu(scenario: Scenario, pid: number | undefined): Scenario {
  return {
    name: scenario.name,
    run: async (seconds) => {
      const before = await cpuTimes(pid);
      const result = await scenario.run(seconds);
      const after = await cpuTimes(pid);
      if (before === undefined || after === undefined || result.completed === 0) return result;
      const perCall = (spent: number): number => spent / result.completed;
      return {
        ...result,
        targetCpu: { user: perCall(after.user - before.user), system: perCall(after.system - before.system) },
      };
    },
  };
}

/**
 * Median over the rounds of (`name` − `base`) target CPU per call, in µs (all of it, or user space
 * only): what `name` costs the target beyond `base`. `NaN` where CPU time was not measured.
 */
export function medianCpuCost(
  results: Map<string, ScenarioSummary>,
  name: string,
  base: string,
  kind: 'cpuRounds' | 'userCpuRounds' = 'cpuRounds',
): number {
  const baseRounds = results.get(base)?.[kind] ?? [];
  return median(
    (results.get(name)?.[kind] ?? []).map((micros, index) => micros - (baseRounds[index] ?? Number.NaN)),
  );
}

/**
 * Adds `<prefix>.<scenario>.target_cpu` and `.target_user_cpu` for every scenario, and
 * `<prefix>.guarded.warm.cpu_cost` / `.user_cpu_cost` (over `public`), where CPU time was measured.
 */
export function reportTargetCpu(
  sink: FigureSink,
  prefix: string,
  results: Map<string, ScenarioSummary>,
): void {
  for (const [name, summary] of results) {
    const total = median(summary.cpuRounds);
    if (Number.isNaN(total)) continue;
    sink.info(`${prefix}.${name}.target_cpu`, round(total, 1), 'µs CPU per request');
    sink.info(
      `${prefix}.${name}.target_user_cpu`,
      round(median(summary.userCpuRounds), 1),
      'µs user CPU per request',
    );
  }
  const cost = medianCpuCost(results, 'guarded.warm', 'public');
  if (Number.isNaN(cost)) return;
  sink.info(`${prefix}.guarded.warm.cpu_cost`, round(cost, 1), `µs CPU per request over ${prefix}.public`);
  const userCost = medianCpuCost(results, 'guarded.warm', 'public', 'userCpuRounds');
  sink.info(
    `${prefix}.guarded.warm.user_cpu_cost`,
    round(userCost, 1),
    `µs user CPU per request over ${prefix}.public`,
  );
}
