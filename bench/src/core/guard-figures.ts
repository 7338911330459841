import { type AlternatingResult, type AlternatingSummary, runAlternatingRounds } from './alternating';
import type { BenchOptions } from './options';
import type { Figure, FigureSink } from './figures';
import { runRounds, type Scenario, type ScenarioSummary } from './rounds';
import { median, round } from './stats';
import { reportTargetCpu } from './target-cpu';

/** The scenarios the HTTP and NATS sections both run: raw transport, `@Public()`, guarded with a repeated and a new token. */
export type GuardScenario = 'raw' | 'public' | 'guarded.warm' | 'guarded.cold';

/** The summary of `name`; throws when the rounds produced none. */
export function summaryOf(results: Map<string, ScenarioSummary>, name: GuardScenario): ScenarioSummary {
  const summary = results.get(name);
  if (summary === undefined) throw new Error(`no result for ${name}`);
  return summary;
}

/**
 * Runs the HTTP or NATS section's scenarios in interleaved rounds of `seconds` (the absolute figures),
 * then `public` and `guarded.warm` alternating (`alternate`: the judged ratio), and reports them all
 * (`reportGuardCost`). Returns the rounds' summaries and the judged figure.
 */
export async function measureGuardCost(
  sink: FigureSink,
  options: BenchOptions,
  run: {
    prefix: string;
    scenarios: Scenario[];
    seconds: number;
    alternate: (seconds: number) => Promise<AlternatingResult>;
    warmGoal: number;
  },
): Promise<{ results: Map<string, ScenarioSummary>; warm: Figure }> {
  const results = await runRounds(run.scenarios, {
    runs: options.runs,
    seconds: run.seconds,
    warmupSeconds: options.warmupSeconds,
  });
  const alternating = await runAlternatingRounds(
    run.alternate,
    { runs: options.runs, seconds: options.alternatingSeconds },
    'guarded.warm / public',
  );
  return { results, warm: reportGuardCost(sink, run.prefix, results, alternating, run.warmGoal) };
}

/**
 * The figures the HTTP and NATS sections share (`prefix` = `http` or `nats`): requests/s, p99 and
 * failures of every scenario, the target's CPU per request, `guarded.cold` / `public` and
 * `public` / `raw` (medians of per-round ratios), and `guarded.warm` / `public` judged against
 * `warmGoal`: measured in alternating phases (`alternating`; a failed request fails it), and, for
 * comparison, from the separate runs. Returns the judged figure.
 */
function reportGuardCost(
  sink: FigureSink,
  prefix: string,
  results: Map<string, ScenarioSummary>,
  alternating: AlternatingSummary,
  warmGoal: number,
): Figure {
  const get = (name: GuardScenario): ScenarioSummary => summaryOf(results, name);
  const ratio = (name: GuardScenario, base: GuardScenario): number =>
    median(get(name).rounds.map((rps, index) => rps / get(base).rounds[index]));
  for (const [name, summary] of results) {
    sink.info(`${prefix}.${name}.rps`, round(summary.rps, 0), 'requests/s');
    sink.info(`${prefix}.${name}.p99`, round(summary.p99), 'ms');
    if (summary.failures > 0) sink.note(`${prefix}.${name}: ${summary.failures} failed requests`);
  }
  reportTargetCpu(sink, prefix, results);
  const failures = alternating.rounds.reduce((sum, result) => sum + result.failures, 0);
  if (failures > 0) sink.note(`${prefix}.guarded.warm.ratio: ${failures} failed requests`);
  const warm = sink.judged(
    `${prefix}.guarded.warm.ratio`,
    round(alternating.ratio, 3),
    `x ${prefix}.public.rps, alternating`,
    `>= ${warmGoal}`,
    alternating.ratio >= warmGoal && failures === 0 && get('guarded.warm').failures === 0,
  );
  sink.info(
    `${prefix}.guarded.warm.ratio_separate_runs`,
    round(ratio('guarded.warm', 'public'), 3),
    `x ${prefix}.public.rps`,
  );
  sink.info(
    `${prefix}.guarded.cold.ratio`,
    round(ratio('guarded.cold', 'public'), 3),
    `x ${prefix}.public.rps`,
  );
  sink.info(`${prefix}.public.ratio_to_raw`, round(ratio('public', 'raw'), 3), `x ${prefix}.raw.rps`);
  return warm;
}

/**
 * Profiles the target where the time goes: guarded and public when the warm goal was missed in a
 * full run (a smoke run's figures mean little) or `--profile` asks, the cold case only when asked.
 */
export async function profileGuardScenarios(
  options: BenchOptions,
  warm: Figure,
  profile: (name: GuardScenario) => Promise<void>,
): Promise<void> {
  if ((warm.met === false && options.mode === 'full') || options.profile) {
    await profile('guarded.warm');
    await profile('public');
  }
  if (options.profile) await profile('guarded.cold');
}
