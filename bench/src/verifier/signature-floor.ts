import { performance } from 'node:perf_hooks';

import { jwtVerify, type JWTVerifyOptions } from 'jose';

import type { FigureSink } from '../core/figures';
import { BENCH_AUDIENCE, TokenPool, type TokenWorld } from '../core/issuer';
import type { LoadResult } from '../core/load-result';
import type { Scenario, ScenarioSummary } from '../core/rounds';
import { median, percentileOfSorted, round } from '../core/stats';

/** The scenario name of the cold case's floor in the HTTP and NATS rounds. */
export const SIGNATURE_FLOOR = 'signature_floor';

/** Goal of `<prefix>.guarded.cold.ratio_to_signature_floor`: a new token costs little beyond its signature check. */
export const COLD_FLOOR_GOAL = 0.9;

/**
 * The rules the verifier asks jose to apply (its defaults: README of libs/auth), so that plain
 * `jose.jwtVerify` with them is the floor of a verification: what the library adds is the difference.
 */
export function joseRules(world: TokenWorld): JWTVerifyOptions {
  return {
    algorithms: ['ES256'],
    typ: 'at+jwt',
    issuer: world.issuer.issuer,
    audience: BENCH_AUDIENCE,
    clockTolerance: 30,
    maxTokenAge: 86_400,
    requiredClaims: ['exp', 'iat', 'jti', 'sub'],
    currentDate: new Date(),
  };
}

/**
 * The cold case's floor as a scenario of the HTTP or NATS rounds: plain `jose.jwtVerify` of distinct
 * tokens with the issuer's public key, one after another, in the bench process while the target idles.
 * Run in the same rounds as `guarded.cold` (interleaved, so each ratio compares runs minutes apart at
 * most, not sections apart: on a shared machine the rate moves by tens of percent within minutes).
 */
export function signatureFloorScenario(world: TokenWorld): Scenario {
  // its own cursor: the target's verifier must never be handed a token jose just checked, nor jose one
  // the target cached
  const pool = new TokenPool(world.pool.tokens);
  return {
    name: SIGNATURE_FLOOR,
    run: async (seconds) => {
      const latencies: number[] = [];
      const started = performance.now();
      const deadline = started + seconds * 1000;
      let now = started;
      while (now < deadline) {
        const begun = now;
        await jwtVerify(pool.next(), world.issuer.publicKey, joseRules(world));
        now = performance.now();
        latencies.push(now - begun);
      }
      latencies.sort((a, b) => a - b);
      const result: LoadResult = {
        rps: latencies.length / ((now - started) / 1000),
        p50: percentileOfSorted(latencies, 50),
        p99: percentileOfSorted(latencies, 99),
        failures: 0,
        completed: latencies.length,
      };
      return result;
    },
  };
}

/**
 * `<prefix>.guarded.cold.ratio_to_signature_floor`, judged: cold requests/s over plain jose
 * verifications/s of the same round, median of the rounds. A cold request cannot beat one signature
 * check: the target verifies on its own core(s) while the load generator takes its share of the machine.
 */
export function reportColdToFloor(
  sink: FigureSink,
  prefix: string,
  results: Map<string, ScenarioSummary>,
): void {
  const cold = results.get('guarded.cold');
  const floor = results.get(SIGNATURE_FLOOR);
  if (cold === undefined || floor === undefined) return;
  const ratio = median(cold.rounds.map((rps, index) => rps / floor.rounds[index]));
  sink.judged(
    `${prefix}.guarded.cold.ratio_to_signature_floor`,
    round(ratio, 3),
    `x ${prefix}.${SIGNATURE_FLOOR}.rps, same rounds`,
    `>= ${COLD_FLOOR_GOAL}`,
    ratio >= COLD_FLOOR_GOAL && cold.failures === 0,
  );
  const open = results.get('public');
  if (open === undefined) return;
  // a request that costs a public request plus one signature check, nothing else, would run at
  // 1 / (1/public + 1/floor) per second: the same rounds' rates
  const toSum = median(
    cold.rounds.map((rps, index) => rps * (1 / open.rounds[index] + 1 / floor.rounds[index])),
  );
  sink.info(
    `${prefix}.guarded.cold.ratio_to_public_plus_signature`,
    round(toSum, 3),
    `x 1/(1/${prefix}.public.rps + 1/${prefix}.${SIGNATURE_FLOOR}.rps), same rounds`,
  );
}
