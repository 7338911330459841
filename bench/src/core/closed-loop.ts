import { performance } from 'node:perf_hooks';

import { describeError } from '@relay/contracts';

import { type AlternatingResult, isVariantB, PhaseTally } from './alternating';
import type { LoadResult } from './load-result';
import { percentileOfSorted } from './stats';

/**
 * Keeps `concurrency` calls in flight for `seconds` (each worker starts its next call when the last
 * one settles), like autocannon's connections, and measures throughput and latency.
 */
export async function runClosedLoop(
  call: () => Promise<unknown>,
  concurrency: number,
  seconds: number,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let failures = 0;
  let firstError: unknown;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const callStarted = performance.now();
      try {
        await call();
        latencies.push(performance.now() - callStarted);
      } catch (error) {
        failures += 1;
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedSeconds = (performance.now() - started) / 1000;
  if (failures > 0 && latencies.length === 0) {
    throw new Error(`every call failed: ${describeError(firstError)}`);
  }
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / elapsedSeconds,
    p50: percentileOfSorted(latencies, 50),
    p99: percentileOfSorted(latencies, 99),
    failures,
    completed: latencies.length,
  };
}

/**
 * Keeps `concurrency` calls in flight for `seconds`, each one `callA` or `callB` by the phase it
 * starts in (see `PhaseTally`).
 */
export async function runAlternatingLoop(
  callA: () => Promise<unknown>,
  callB: () => Promise<unknown>,
  concurrency: number,
  seconds: number,
): Promise<AlternatingResult> {
  const tally = new PhaseTally();
  const deadline = performance.now() + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const phase = tally.phaseNow();
      try {
        await (isVariantB(phase) ? callB() : callA());
        tally.settle(phase, true);
      } catch {
        tally.settle(phase, false);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return tally.result();
}
