import { randomUUID } from 'node:crypto';

import type { INestApplicationContext } from '@nestjs/common';
import { connect, headers as natsHeaders, type NatsConnection } from 'nats';

import { CallContext, RelayNatsClient } from '@relay/auth';

import { runClosedLoop } from '../core/closed-loop';
import type { BenchContext, Targets } from '../core/context';
import { runRounds, type Scenario } from '../core/rounds';
import { median, round } from '../core/stats';
import { reportTargetCpu, withTargetCpu } from '../core/target-cpu';
import { profileTarget } from '../targets/profile-target';
import { BenchSubjects } from '../targets/target-config';

const WARM_GOAL = 0.85;
const TIMEOUT_MS = 10_000;

function rawRequest(connection: NatsConnection, token: string): () => Promise<unknown> {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  return async () => {
    const headers = natsHeaders();
    headers.set('authorization', `Bearer ${token}`);
    headers.set(
      'traceparent',
      `00-${randomUUID().replace(/-/g, '')}-${randomUUID().replace(/-/g, '').slice(0, 16)}-01`,
    );
    headers.set('x-request-id', randomUUID());
    const payload = encoder.encode(
      JSON.stringify({ pattern: BenchSubjects.raw, data: {}, id: randomUUID() }),
    );
    const reply = await connection.request(BenchSubjects.raw, payload, { timeout: TIMEOUT_MS, headers });
    return JSON.parse(decoder.decode(reply.data)) as unknown;
  };
}

/**
 * NATS hop cost: `RelayNatsClient.send` (Nest wire format, propagated authorization / traceparent /
 * x-request-id headers) to a Nest NATS handler that re-verifies the token in `AccessTokenGuard`,
 * vs the same handler `@Public()`, vs raw nats.js request/reply. `connections` calls in flight.
 */
export async function benchNatsHop(
  context: BenchContext,
  targets: Targets,
  driver: INestApplicationContext,
): Promise<void> {
  const { options, sink, world } = context;
  const relay = driver.get(RelayNatsClient);
  const connection = await connect({ servers: world.natsUrl, name: 'bench-raw-requester' });
  const send = (subject: string, token: () => string) => () =>
    CallContext.run({ token: token() }, () => relay.send(subject, {}, { timeoutMs: TIMEOUT_MS }));
  const calls: Record<string, () => Promise<unknown>> = {
    raw: rawRequest(connection, world.warmToken),
    public: send(BenchSubjects.public, () => world.warmToken),
    'guarded.warm': send(BenchSubjects.guarded, () => world.warmToken),
    'guarded.cold': send(BenchSubjects.guarded, () => world.pool.next()),
  };
  const scenarios: Scenario[] = Object.entries(calls).map(([name, call]) =>
    withTargetCpu(
      { name, run: (seconds) => runClosedLoop(call, options.connections, seconds) },
      (name === 'raw' ? targets.raw : targets.nest).process.pid,
    ),
  );
  try {
    const results = await runRounds(scenarios, {
      runs: options.runs,
      seconds: options.natsSeconds,
      warmupSeconds: options.warmupSeconds,
    });
    const get = (name: string) => {
      const summary = results.get(name);
      if (summary === undefined) throw new Error(`no result for ${name}`);
      return summary;
    };
    const ratio = (name: string, base: string): number =>
      median(get(name).rounds.map((rps, index) => rps / get(base).rounds[index]));
    for (const name of Object.keys(calls)) {
      sink.info(`nats.${name}.rps`, round(get(name).rps, 0), 'requests/s');
      sink.info(`nats.${name}.p99`, round(get(name).p99), 'ms');
      if (get(name).failures > 0) sink.note(`nats.${name}: ${get(name).failures} failed requests`);
    }
    reportTargetCpu(sink, 'nats', results);
    const warmRatio = ratio('guarded.warm', 'public');
    const warm = sink.judged(
      'nats.guarded.warm.ratio',
      round(warmRatio, 3),
      'x nats.public.rps',
      `>= ${WARM_GOAL}`,
      warmRatio >= WARM_GOAL && get('guarded.warm').failures === 0,
    );
    sink.info('nats.guarded.cold.ratio', round(ratio('guarded.cold', 'public'), 3), 'x nats.public.rps');
    sink.info('nats.public.ratio_to_raw', round(ratio('public', 'raw'), 3), 'x nats.raw.rps');
    const profileSeconds = options.mode === 'quick' ? 1 : 4;
    const profile = (name: string): Promise<void> =>
      profileTarget(context, targets.nest, `nats ${name} profile`, () =>
        runClosedLoop(calls[name], options.connections, profileSeconds),
      );
    // a smoke run's figures mean little: it profiles only when asked to
    if ((warm.met === false && options.mode === 'full') || options.profile) {
      await profile('guarded.warm');
      await profile('public');
    }
    if (options.profile) await profile('guarded.cold');
  } finally {
    await connection.drain();
  }
}
