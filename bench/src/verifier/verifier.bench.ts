import { performance } from 'node:perf_hooks';

import type { INestApplicationContext } from '@nestjs/common';
import { jwtVerify } from 'jose';

import { AccessTokenVerifier } from '@relay/auth';

import type { BenchContext } from '../core/context';
import { profileInProcess, summariseProfile } from '../core/cpu-profile';
import { TokenPool } from '../core/issuer';
import { mainThreadCpuClock, runAlternatingBatches } from '../core/alternating';
import { acceptEachTwice } from '../core/resident-tokens';
import { roundOrder } from '../core/rounds';
import { median, round } from '../core/stats';
import { joseRules } from './signature-floor';

const BATCH = 64;
// verifications in flight in the loaded case: libuv's default thread pool, where jose checks signatures
const IN_FLIGHT = 4;
const COLD_GOAL = 1.1;
const WARM_GOAL_MICROSECONDS = 10;

/** Verifications per second of `verify` run back to back for `seconds`. */
async function opsPerSecond(verify: () => Promise<unknown>, seconds: number): Promise<number> {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let count = 0;
  let yieldedAt = started;
  do {
    for (let index = 0; index < BATCH; index += 1) await verify();
    count += BATCH;
    // a warm verification never leaves the microtask queue: let timers run (the revocation feed's
    // ping counts the feed lost after 700 ms of silence), as a server's event loop would
    if (performance.now() - yieldedAt > 100) {
      await new Promise((resolve) => setImmediate(resolve));
      yieldedAt = performance.now();
    }
  } while (performance.now() < deadline);
  return count / ((performance.now() - started) / 1000);
}

/** One call that runs `verify` `IN_FLIGHT` times at once: the loaded case's unit. */
function inFlight(verify: () => Promise<unknown>): () => Promise<unknown> {
  return () => Promise.all(Array.from({ length: IN_FLIGHT }, verify));
}

/**
 * `AccessTokenVerifier.verify` (JWKS key set, claim rules, cache, revocation check against a
 * preloaded list) vs plain `jose.jwtVerify` with the same public key and the same claim options
 * (algorithms, typ, iss, aud, clock tolerance, max token age, required claims).
 * Cold: a token the verifier has not seen (a pool twice its cache); warm: one repeated token. Both run
 * against a cache full of other tokens in use (`world.resident`).
 *
 * The judged cold figure runs one verification after another: each waits for jose's signature check on
 * the thread pool, so the main thread sleeps between checks and the verifier's own work runs on cold
 * caches, costing several times what it costs on a busy thread. The loaded figure (reported, not
 * judged) keeps `IN_FLIGHT` verifications going, as a server under load does.
 */
export async function benchVerifier(context: BenchContext, driver: INestApplicationContext): Promise<void> {
  const { world, options, sink } = context;
  const verifier = driver.get(AccessTokenVerifier);
  const publicKey = world.issuer.publicKey;
  // jose draws from its own cursor: sharing the verifier's would hand the verifier tokens it saw fewer
  // than 10 000 verifications ago, and its "cold" runs would hit the cache
  const josePool = new TokenPool(world.pool.tokens);
  const variants = {
    jose: () => jwtVerify(josePool.next(), publicKey, joseRules(world)),
    cold: () => verifier.verify(world.pool.next()),
    warm: () => verifier.verify(world.warmToken),
  };
  const runs: Record<keyof typeof variants, number[]> = { jose: [], cold: [], warm: [] };
  const coldRatios: number[] = [];
  // the main thread's own CPU per verification (where the system tells it): jose's, the verifier's
  const threadCpu: Record<'jose' | 'cold', number[]> = { jose: [], cold: [] };
  const threadCpuClock = mainThreadCpuClock();
  const loadedRatios: number[] = [];
  await acceptEachTwice(world.resident, async (token) => {
    await verifier.verify(token);
  });
  for (const verify of Object.values(variants)) await opsPerSecond(verify, options.warmupSeconds / 2);
  for (let round = 0; round < options.verifierRuns; round += 1) {
    const measureCold = async (): Promise<void> => {
      const times = await runAlternatingBatches(
        variants.jose,
        variants.cold,
        BATCH,
        2 * options.verifierSeconds,
        threadCpuClock,
      );
      runs.jose.push(times.aOps);
      runs.cold.push(times.bOps);
      coldRatios.push(times.timeRatio);
      if (times.aThreadCpu !== undefined && times.bThreadCpu !== undefined) {
        threadCpu.jose.push(times.aThreadCpu);
        threadCpu.cold.push(times.bThreadCpu);
      }
    };
    const measureWarm = async (): Promise<void> => {
      runs.warm.push(await opsPerSecond(variants.warm, options.verifierSeconds));
    };
    const measureLoaded = async (): Promise<void> => {
      const times = await runAlternatingBatches(
        inFlight(variants.jose),
        inFlight(variants.cold),
        BATCH / IN_FLIGHT,
        options.verifierSeconds,
      );
      loadedRatios.push(times.timeRatio);
    };
    for (const measure of roundOrder([measureCold, measureWarm, measureLoaded], round)) await measure();
    const added = (threadCpu.cold[round] ?? Number.NaN) - (threadCpu.jose[round] ?? Number.NaN);
    const addedText = Number.isNaN(added) ? '' : `; main thread +${added.toFixed(1)} µs`;
    process.stdout.write(
      `    round ${round + 1} jose ${runs.jose[round].toFixed(0)}/s  verifier cold ${runs.cold[round].toFixed(0)}/s (${coldRatios[round].toFixed(3)}x${addedText}; ${IN_FLIGHT} in flight ${loadedRatios[round].toFixed(3)}x)  warm ${runs.warm[round].toFixed(0)}/s\n`,
    );
  }
  const jose = median(runs.jose);
  const cold = median(runs.cold);
  const warm = median(runs.warm);
  // per-round ratios, then the median: each compares batches run in turn
  const coldRatio = median(coldRatios);
  sink.info('verifier.jose.cold.ops', round(jose, 0), 'verifications/s');
  sink.info('verifier.jose.cold.time', round(1e6 / jose), 'µs');
  sink.info('verifier.cold.ops', round(cold, 0), 'verifications/s');
  sink.info('verifier.cold.time', round(1e6 / cold), 'µs');
  const coldFigure = sink.judged(
    'verifier.cold.time_ratio',
    round(coldRatio, 3),
    'x jose.jwtVerify',
    `<= ${COLD_GOAL}`,
    coldRatio <= COLD_GOAL,
  );
  if (threadCpu.cold.length > 0) {
    const added = threadCpu.cold.map((micros, index) => micros - threadCpu.jose[index]);
    sink.info('verifier.jose.cold.thread_cpu', round(median(threadCpu.jose)), 'µs main-thread CPU');
    sink.info('verifier.cold.thread_cpu', round(median(threadCpu.cold)), 'µs main-thread CPU');
    sink.info('verifier.cold.thread_cpu_added', round(median(added)), 'µs main-thread CPU over jose');
  }
  sink.info(
    'verifier.cold.loaded.time_ratio',
    round(median(loadedRatios), 3),
    `x jose.jwtVerify, ${IN_FLIGHT} in flight`,
  );
  sink.info('verifier.warm.ops', round(warm, 0), 'verifications/s');
  const warmFigure = sink.judged(
    'verifier.warm.time',
    round(1e6 / warm, 2),
    'µs',
    `<= ${WARM_GOAL_MICROSECONDS}`,
    1e6 / warm <= WARM_GOAL_MICROSECONDS,
  );

  // a smoke run's figures mean little: it profiles only when asked to
  const isProfiled = (figure: { met: boolean | null }): boolean =>
    (figure.met === false && options.mode === 'full') || options.profile;
  const toProfile = [
    { label: 'verifier cold', verify: variants.cold, wanted: isProfiled(coldFigure) },
    { label: 'verifier warm', verify: variants.warm, wanted: isProfiled(warmFigure) },
  ];
  for (const { label, verify, wanted } of toProfile) {
    if (!wanted) continue;
    const profile = await profileInProcess(async () => {
      await opsPerSecond(verify, 2);
    });
    const summary = summariseProfile(profile);
    sink.note(`${label} profile (self time): by area: ${summary.areas}`);
    sink.note(`${label} profile (self time): top functions: ${summary.functions}`);
  }
}
