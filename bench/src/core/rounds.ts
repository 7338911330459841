import { cpuMicros } from './child';
import type { LoadResult } from './load-result';
import { median } from './stats';

/** A named load scenario; `run(seconds)` measures it once. */
export interface Scenario {
  name: string;
  run(seconds: number): Promise<LoadResult>;
}

/** `scenario` with the CPU time the process `pid` spends per successful call added to each result. */
export function withTargetCpu(scenario: Scenario, pid: number | undefined): Scenario {
  return {
    name: scenario.name,
    run: async (seconds) => {
      const before = await cpuMicros(pid);
      const result = await scenario.run(seconds);
      const spent = (await cpuMicros(pid)) - before;
      return Number.isNaN(spent) || result.completed === 0
        ? result
        : { ...result, targetCpuMicros: spent / result.completed };
    },
  };
}

/** Medians over the rounds, per scenario. */
export interface ScenarioSummary {
  rps: number;
  p50: number;
  p99: number;
  /** Failed calls over all rounds. */
  failures: number;
  /** Throughput of each round, for the report. */
  rounds: number[];
  /** Target CPU µs per call of each round (`NaN` where not measured). */
  cpuRounds: number[];
}

/**
 * Warms every scenario up once, then runs them interleaved (A B C, A B C, …) so the ratios compare
 * runs that saw the same machine noise, and returns per-scenario medians.
 */
export async function runRounds(
  scenarios: Scenario[],
  options: { runs: number; seconds: number; warmupSeconds: number },
): Promise<Map<string, ScenarioSummary>> {
  for (const scenario of scenarios) await scenario.run(options.warmupSeconds);
  const results = new Map<string, LoadResult[]>(scenarios.map((scenario) => [scenario.name, []]));
  for (let round = 0; round < options.runs; round += 1) {
    for (const scenario of scenarios) {
      const result = await scenario.run(options.seconds);
      results.get(scenario.name)?.push(result);
      process.stdout.write(
        `    round ${round + 1} ${scenario.name.padEnd(28)} ${result.rps.toFixed(0).padStart(7)} /s  p99 ${result.p99.toFixed(2)} ms` +
          `${result.targetCpuMicros === undefined ? '' : `  target cpu ${result.targetCpuMicros.toFixed(1)} µs/call`}` +
          `${result.failures > 0 ? `  failures ${result.failures}` : ''}\n`,
      );
    }
  }
  return new Map(
    [...results].map(([name, runs]) => [
      name,
      {
        rps: median(runs.map((run) => run.rps)),
        p50: median(runs.map((run) => run.p50)),
        p99: median(runs.map((run) => run.p99)),
        failures: runs.reduce((sum, run) => sum + run.failures, 0),
        rounds: runs.map((run) => run.rps),
        cpuRounds: runs.map((run) => run.targetCpuMicros ?? Number.NaN),
      },
    ]),
  );
}

/**
 * Median over the rounds of (`name` − `base`) target CPU per call, in µs: what `name` costs the
 * target beyond `base`. `NaN` where CPU time was not measured.
 */
export function medianCpuCost(results: Map<string, ScenarioSummary>, name: string, base: string): number {
  const baseRounds = results.get(base)?.cpuRounds ?? [];
  return median(
    (results.get(name)?.cpuRounds ?? []).map((micros, index) => micros - (baseRounds[index] ?? Number.NaN)),
  );
}
