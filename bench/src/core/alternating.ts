import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

import { median } from './stats';

/** Phase length of the alternating runs: short enough that both variants see the same machine noise. */
export const PHASE_MS = 100;

/** Completions per second of two variants run in alternating phases, and their ratio. */
export interface AlternatingResult {
  /** Variant `a` (the baseline), calls completed per second of its phases. */
  aPerSecond: number;
  /** Variant `b`, calls completed per second of its phases. */
  bPerSecond: number;
  /** `bPerSecond / aPerSecond`. */
  ratio: number;
  /** Whole phases counted (half of them each variant's). */
  phases: number;
  /** Calls that failed, in any phase. */
  failures: number;
}

/**
 * Time cut into phases of `phaseMs`, even phases for variant `a`, odd ones for `b`: a load generator
 * asks `phaseNow()` which variant a call it starts should be, and reports the call back when it ends.
 *
 * On a shared VM the throughput of the same server moves by 30 % from one second to the next
 * (neighbours on the host), so two variants measured in separate runs, even seconds apart, compare
 * machine states as much as code. Alternating every `phaseMs` puts both under the same noise.
 * A call counts only if it ends in the phase it started in: the calls left in flight at a phase
 * change (one per connection) count for neither variant, which takes the same number of calls from
 * every phase and so errs, if at all, towards a lower ratio for the slower variant.
 */
export class PhaseTally {
  private readonly completed = new Map<number, number>();
  private first = Number.NaN;
  private last = Number.NaN;
  private failed = 0;

  constructor(
    private readonly phaseMs: number = PHASE_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The phase a call starting now belongs to (odd: variant `b`). */
  phaseNow(): number {
    const phase = Math.floor(this.now() / this.phaseMs);
    if (Number.isNaN(this.first)) this.first = phase;
    this.last = phase;
    return phase;
  }

  /** Records a call that started in `phase`; it counts when it succeeded within that phase. */
  settle(phase: number, succeeded: boolean): void {
    if (!succeeded) {
      this.failed += 1;
      return;
    }
    if (Math.floor(this.now() / this.phaseMs) !== phase) return;
    this.completed.set(phase, (this.completed.get(phase) ?? 0) + 1);
  }

  /** The rates over every whole phase: the first and last phases seen were cut by the run's start and end. */
  result(): AlternatingResult {
    let aCalls = 0;
    let aPhases = 0;
    let bCalls = 0;
    let bPhases = 0;
    for (let phase = this.first + 1; phase < this.last; phase += 1) {
      const calls = this.completed.get(phase) ?? 0;
      if (isVariantB(phase)) {
        bCalls += calls;
        bPhases += 1;
      } else {
        aCalls += calls;
        aPhases += 1;
      }
    }
    const seconds = this.phaseMs / 1000;
    const aPerSecond = aPhases === 0 ? Number.NaN : aCalls / (aPhases * seconds);
    const bPerSecond = bPhases === 0 ? Number.NaN : bCalls / (bPhases * seconds);
    return {
      aPerSecond,
      bPerSecond,
      ratio: bPerSecond / aPerSecond,
      phases: aPhases + bPhases,
      failures: this.failed,
    };
  }
}

/** Whether calls started in `phase` run variant `b`. */
export function isVariantB(phase: number): boolean {
  return phase % 2 !== 0;
}

/** Per-round results of alternating runs, and the median ratio that the goals judge. */
export interface AlternatingSummary {
  ratio: number;
  rounds: AlternatingResult[];
}

/** Runs `run(seconds)` `runs` times and takes the median of the rounds' ratios. */
export async function runAlternatingRounds(
  run: (seconds: number) => Promise<AlternatingResult>,
  options: { runs: number; seconds: number },
  label: string,
): Promise<AlternatingSummary> {
  const rounds: AlternatingResult[] = [];
  for (let round = 0; round < options.runs; round += 1) {
    const result = await run(options.seconds);
    rounds.push(result);
    process.stdout.write(
      `    round ${round + 1} ${label.padEnd(28)} ${result.ratio.toFixed(3)}  ` +
        `(${result.bPerSecond.toFixed(0)} / ${result.aPerSecond.toFixed(0)} per s, ${result.phases} phases)` +
        `${result.failures > 0 ? `  failures ${result.failures}` : ''}\n`,
    );
  }
  return { ratio: median(rounds.map((result) => result.ratio)), rounds };
}

/** Time per call of two variants run in alternating batches (see `runAlternatingBatches`). */
export interface AlternatingTimes {
  /** Calls of `a` per second of `a`'s own batches. */
  aOps: number;
  bOps: number;
  /** Time per `b` call / time per `a` call. */
  timeRatio: number;
  /** Calls of each variant. */
  calls: number;
  /**
   * CPU time of the calling (main) thread per call of `a` and of `b`, in µs, where `threadCpu` could
   * read it: the thread's own work, without the thread pool's or the time it slept waiting for it.
   */
  aThreadCpu?: number;
  bThreadCpu?: number;
}

/**
 * A clock of the CPU time this process's main thread has run, in ns (Linux: the first field of
 * `/proc/self/task/<pid>/schedstat`, where the main thread's id is the process id); `undefined` where
 * the system does not tell it. The kernel brings that sum up to date when the thread stops running,
 * not when it reads it: each reading lags by the time since the thread last woke, which for a thread
 * that sleeps between calls (waiting for the thread pool) is less than one call's work.
 */
export function mainThreadCpuClock(): (() => number) | undefined {
  const path = `/proc/self/task/${process.pid}/schedstat`;
  const read = (): number => Number(readFileSync(path, 'latin1').split(' ')[0]);
  try {
    // a kernel without scheduler statistics prints zeros
    return read() > 0 ? read : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The in-process twin of `PhaseTally`: runs `a` and `b` one call after another in alternating batches
 * of `batch` calls (a b, b a, a b, …) for about `seconds` in all, timing each batch, so that both see
 * the same machine at millisecond grain. Both run the same number of calls. With `threadCpu` (a clock of
 * the calling thread's CPU time in ns, e.g. `mainThreadCpuClock()`), each is also charged the CPU time
 * the thread spent in its own batches.
 */
export async function runAlternatingBatches(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  batch: number,
  seconds: number,
  threadCpu?: () => number,
): Promise<AlternatingTimes> {
  const variants = [a, b];
  const spentMs = [0, 0];
  const cpuNs = [0, 0];
  const deadline = performance.now() + seconds * 1000;
  let turns = 0;
  do {
    for (const which of turns % 2 === 0 ? [0, 1] : [1, 0]) {
      const call = variants[which];
      // the clock is read outside the timed span: its own cost never enters the wall time
      const cpuBefore = threadCpu?.() ?? 0;
      const started = performance.now();
      for (let index = 0; index < batch; index += 1) await call();
      spentMs[which] += performance.now() - started;
      cpuNs[which] += (threadCpu?.() ?? 0) - cpuBefore;
    }
    turns += 1;
  } while (performance.now() < deadline);
  const calls = turns * batch;
  const [aMs, bMs] = spentMs;
  const times: AlternatingTimes = {
    aOps: (calls * 1000) / aMs,
    bOps: (calls * 1000) / bMs,
    timeRatio: bMs / aMs,
    calls,
  };
  if (threadCpu === undefined) return times;
  const perCallMicros = (ns: number): number => ns / 1000 / calls;
  return { ...times, aThreadCpu: perCallMicros(cpuNs[0]), bThreadCpu: perCallMicros(cpuNs[1]) };
}
