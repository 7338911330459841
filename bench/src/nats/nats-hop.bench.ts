import { randomUUID } from 'node:crypto';

import type { INestApplicationContext } from '@nestjs/common';
import { connect, headers as natsHeaders, type NatsConnection } from 'nats';

import { CallContext, RelayNatsClient } from '@relay/auth';

import { runAlternatingLoop, runClosedLoop } from '../core/closed-loop';
import type { BenchContext, Targets } from '../core/context';
import type { Scenario } from '../core/rounds';
import { measureGuardCost, profileGuardScenarios } from '../core/guard-figures';
import { withTargetCpu } from '../core/target-cpu';
import { profileTarget } from '../targets/profile-target';
import { BenchSubjects } from '../targets/target-config';
import { reportColdToFloor, signatureFloorScenario } from '../verifier/signature-floor';

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
  const scenarios: Scenario[] = [
    ...Object.entries(calls).map(([name, call]) =>
      withTargetCpu(
        { name, run: (seconds) => runClosedLoop(call, options.connections, seconds) },
        (name === 'raw' ? targets.raw : targets.nest).process.pid,
      ),
    ),
    signatureFloorScenario(world),
  ];
  try {
    const { results, warm } = await measureGuardCost(sink, options, {
      prefix: 'nats',
      scenarios,
      seconds: options.natsSeconds,
      alternate: (seconds) =>
        runAlternatingLoop(calls['public'], calls['guarded.warm'], options.connections, seconds),
      warmGoal: WARM_GOAL,
    });
    reportColdToFloor(sink, 'nats', results);
    const profileSeconds = options.mode === 'quick' ? 1 : 4;
    await profileGuardScenarios(options, warm, (name) =>
      profileTarget(context, targets.nest, `nats ${name} profile`, () =>
        runClosedLoop(calls[name], options.connections, profileSeconds),
      ),
    );
  } finally {
    await connection.drain();
  }
}
