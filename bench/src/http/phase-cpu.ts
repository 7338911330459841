import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

import { type AlternatingResult, isVariantB, PHASE_MS } from '../core/alternating';
import { parseProcStat } from '../core/child';
import { type HttpScenario, runAlternatingHttp } from '../core/http-load';

/** Target CPU µs per call of each variant of an alternating run. */
export interface VariantCpu {
  a: number;
  b: number;
}

/** An alternating run's rates and ratio, and the target's CPU per call of each variant where measured. */
export interface AlternatingCpuResult extends AlternatingResult {
  cpu?: VariantCpu;
}

/** CPU time one target spent between two phase changes, and the calls of each variant that ended then. */
interface Segment {
  variantB: boolean;
  cpuMicros: number;
  /** Successful calls of variant `a` and of variant `b` (by the phase each started in). */
  calls: [number, number];
}

/**
 * The target's CPU time per call of each of two variants that alternate on one target (one process, so
 * its CPU time cannot be split by process as the closed-bus section's is): the load generator calls
 * `tick()` whenever a call starts or ends, which reads the target's CPU clock at the first of them in
 * each new phase; `completed()` records each successful call by the variant it ran.
 *
 * Around each phase change the calls in flight (one per connection) end in the next phase, so every
 * phase's CPU time holds some calls of the other variant. Rather than charging them to the phase's
 * own variant, `result()` takes each call's CPU time to be spent in the phase it ends in and solves
 * `cpu = a·callsA + b·callsB` over the two kinds of phase: two equations, two unknowns.
 */
export class PhaseCpuMeter {
  private phase = Number.NaN;
  private cpuAtPhaseStart: number | undefined;
  private calls: [number, number] = [0, 0];
  private readonly segments: Segment[] = [];

  constructor(
    /** The target's CPU time used so far, in µs, or `undefined` where unavailable. */
    private readonly readCpu: () => number | undefined,
    private readonly now: () => number = () => performance.now(),
    private readonly phaseMs: number = PHASE_MS,
  ) {}

  /** Closes the current segment at the first call of a new phase. */
  tick(): void {
    const phase = Math.floor(this.now() / this.phaseMs);
    if (phase === this.phase) return;
    const cpu = this.readCpu();
    if (!Number.isNaN(this.phase) && cpu !== undefined && this.cpuAtPhaseStart !== undefined) {
      this.segments.push({
        variantB: isVariantB(this.phase),
        cpuMicros: cpu - this.cpuAtPhaseStart,
        calls: this.calls,
      });
    }
    this.phase = phase;
    this.cpuAtPhaseStart = cpu;
    this.calls = [0, 0];
  }

  /** A call that started in phase `startedIn` succeeded now. */
  completed(startedIn: number): void {
    this.tick();
    this.calls[isVariantB(startedIn) ? 1 : 0] += 1;
  }

  /**
   * CPU µs per call of `a` and of `b`, over every closed segment but the first (cut by the run's
   * start; the last, cut by its end, is never closed); `undefined` when the CPU clock was unreadable or
   * the two kinds of phase do not tell the variants apart.
   */
  result(): VariantCpu | undefined {
    const sums = [
      { cpu: 0, a: 0, b: 0 },
      { cpu: 0, a: 0, b: 0 },
    ];
    for (const segment of this.segments.slice(1)) {
      const sum = sums[segment.variantB ? 1 : 0];
      sum.cpu += segment.cpuMicros;
      sum.a += segment.calls[0];
      sum.b += segment.calls[1];
    }
    const [inA, inB] = sums;
    const determinant = inA.a * inB.b - inA.b * inB.a;
    if (!(determinant > 0)) return undefined;
    return {
      a: (inA.cpu * inB.b - inA.b * inB.cpu) / determinant,
      b: (inA.a * inB.cpu - inA.cpu * inB.a) / determinant,
    };
  }
}

/**
 * A synchronous clock of the CPU time (user + system, all threads) process `pid` has used, in µs
 * (Linux `/proc`, 10 ms resolution), read at the instant of a phase change; `undefined` elsewhere.
 */
export function processCpuClock(pid: number | undefined): () => number | undefined {
  const path = `/proc/${pid}/stat`;
  return () => {
    if (pid === undefined) return undefined;
    try {
      const { user, system } = parseProcStat(readFileSync(path, 'latin1'));
      return user + system;
    } catch {
      return undefined;
    }
  };
}

/**
 * `runAlternatingHttp()` (two paths of one server in alternating phases on the same `connections`
 * connections, each request taking the path of the phase it starts in) that also measures the
 * serving process `pid`'s CPU time per request of each path with a `PhaseCpuMeter`.
 */
export async function runAlternatingHttpCpu(
  a: HttpScenario,
  b: HttpScenario,
  connections: number,
  seconds: number,
  pid: number | undefined,
): Promise<AlternatingCpuResult> {
  const meter = new PhaseCpuMeter(processCpuClock(pid));
  const result = await runAlternatingHttp(a, b, connections, seconds, {
    started: () => meter.tick(),
    settled: (phase, succeeded) => (succeeded ? meter.completed(phase) : meter.tick()),
  });
  return { ...result, cpu: meter.result() };
}
