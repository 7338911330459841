import type { LoadResult } from './load-result';
import { median } from './stats';

/** A named load scenario; `run(seconds)` measures it once. */
export interface Scenario {
  name: string;
  run(seconds: number): Promise<LoadResult>;
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
  /** Target CPU µs (user + system) per call of each round (`NaN` where not measured). */
  cpuRounds: number[];
  /** Target user-space CPU µs per call of each round: the process's own code, without kernel time. */
  userCpuRounds: number[];
}

/**
 * Warms every scenario up once, then runs them interleaved, forwards and backwards in turn
 * (A B C, C B A, A B C, …), so the ratios compare runs that saw the same machine noise and no
 * scenario always follows the same one; returns per-scenario medians.
 */
export async function runRounds(
  scenarios: Scenario[],
  options: { runs: number; seconds: number; warmupSeconds: number },
): Promise<Map<string, ScenarioSummary>> {
  for (const scenario of scenarios) await scenario.run(options.warmupSeconds);
  const results = new Map<string, LoadResult[]>(scenarios.map((scenario) => [scenario.name, []]));
  for (let round = 0; round < options.runs; round += 1) {
    for (const scenario of roundOrder(scenarios, round)) {
      const result = await scenario.run(options.seconds);
      results.get(scenario.name)?.push(result);
      process.stdout.write(
        `    round ${round + 1} ${scenario.name.padEnd(28)} ${result.rps.toFixed(0).padStart(7)} /s  p99 ${result.p99.toFixed(2)} ms` +
          `${result.targetCpu === undefined ? '' : `  target cpu ${result.targetCpu.user.toFixed(1)} user + ${result.targetCpu.system.toFixed(1)} sys µs/call`}` +
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
        cpuRounds: runs.map((run) =>
          run.targetCpu === undefined ? Number.NaN : run.targetCpu.user + run.targetCpu.system,
        ),
        userCpuRounds: runs.map((run) => run.targetCpu?.user ?? Number.NaN),
      },
    ]),
  );
}

/** `items` in round `round`'s order: as given in even rounds, reversed in odd ones. */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  return round % 2 === 0 ? [...items] : [...items].reverse();
}
