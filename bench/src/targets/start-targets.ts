import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { type BenchChild, forkTarget } from '../core/child';
import type { BenchContext, Targets } from '../core/context';
import { BENCH_AUDIENCE, type TokenWorld } from '../core/issuer';
import { acceptEachTwice } from '../core/resident-tokens';
import { sleep } from '../core/stats';
import {
  BenchPaths,
  BenchSubjects,
  ExpressTargetSubjects,
  type TargetConfig,
  type TargetReady,
} from './target-config';

const RESYNC_WAIT_MS = 200;
const RESYNC_LIMIT_MS = 30_000;

/** The `BENCH_TARGET` of the forked targets: the bench's bus and subjects unless `overrides` say otherwise. */
export function targetEnv(world: TokenWorld, overrides: Partial<TargetConfig> = {}): Record<string, string> {
  const config: TargetConfig = {
    natsUrl: world.natsUrl,
    issuer: world.issuer.issuer,
    jwksUri: world.jwks.url,
    audience: BENCH_AUDIENCE,
    revocationBucket: world.bucket,
    subjects: BenchSubjects,
    ...overrides,
  };
  return { BENCH_TARGET: JSON.stringify(config) };
}

/**
 * Starts both targets in parallel (each pays a few seconds of TypeScript compilation), then fills the
 * Nest target's verifier cache (HTTP and NATS share it) with the resident tokens.
 */
export async function startTargets(context: BenchContext): Promise<Targets> {
  const [nest, raw] = await Promise.allSettled([
    // with logs, metrics and tracing on, as every Relay app runs: the judged goals hold with them
    forkTarget<TargetReady>('nest-target', join(__dirname, 'nest-target.ts'), {
      env: targetEnv(context.world, {
        observability: {
          logs: true,
          metrics: true,
          ...(context.otlpSink === undefined ? {} : { otlpEndpoint: context.otlpSink.endpoint }),
        },
      }),
    }),
    forkTarget<TargetReady>('raw-target', join(__dirname, 'raw-target.ts'), {
      env: targetEnv(context.world),
    }),
  ]);
  if (nest.status === 'fulfilled' && raw.status === 'fulfilled') {
    const targets = { nest: nest.value, raw: raw.value };
    try {
      await fillVerifierCache(targets.nest, context.world.resident);
    } catch (error) {
      await stopTargets(targets);
      throw error;
    }
    return targets;
  }
  if (nest.status === 'fulfilled') await nest.value.stop();
  if (raw.status === 'fulfilled') await raw.value.stop();
  throw nest.status === 'rejected' ? nest.reason : (raw as PromiseRejectedResult).reason;
}

/**
 * Starts the same Nest target on Nest's Express adapter (its NATS handlers on subjects of their own)
 * and fills its verifier cache like the Fastify target's. Started by the HTTP section once the Fastify
 * figures are taken, and stopped by it, so it neither shares the machine with them nor idles through
 * the other sections.
 */
export async function startExpressTarget(context: BenchContext): Promise<BenchChild<TargetReady>> {
  const target = await forkTarget<TargetReady>('nest-target (express)', join(__dirname, 'nest-target.ts'), {
    env: targetEnv(context.world, { adapter: 'express', subjects: ExpressTargetSubjects }),
  });
  try {
    await fillVerifierCache(target, context.world.resident);
  } catch (error) {
    await target.stop();
    throw error;
  }
  return target;
}

/**
 * Has the Nest target accept each of `tokens` twice over HTTP, which caches them in its verifier. A 503
 * is the target's revocation feed (re)syncing, during which it refuses every token (a loaded machine
 * can starve its pings): that call is repeated until the feed is back, for up to `RESYNC_LIMIT_MS`.
 */
export async function fillVerifierCache(
  nest: BenchChild<TargetReady>,
  tokens: readonly string[],
): Promise<void> {
  const url = `${nest.ready.httpUrl}${BenchPaths.guarded}`;
  await acceptEachTwice(tokens, async (token) => {
    const deadline = performance.now() + RESYNC_LIMIT_MS;
    for (;;) {
      const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      await response.arrayBuffer();
      if (response.ok) return;
      if (response.status !== 503 || performance.now() > deadline) {
        throw new Error(`bench: filling the target's cache: ${url} answered ${response.status}`);
      }
      await sleep(RESYNC_WAIT_MS);
    }
  });
}

/** Stops both targets. */
export async function stopTargets(targets: Targets): Promise<void> {
  await Promise.all([targets.nest.stop(), targets.raw.stop()]);
}
