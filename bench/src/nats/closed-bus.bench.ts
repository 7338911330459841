import { join } from 'node:path';

import type { INestApplicationContext } from '@nestjs/common';
import { connect } from 'nats';

import { CallContext, RelayNatsClient } from '@relay/auth';
import { REVOCATION_BUCKET } from '@relay/contracts';
import { type BusService, natsServerCommand, type NatsServer, startNatsServer } from '@relay/testing';

import { runAlternatingRounds } from '../core/alternating';
import { type BenchChild, cpuTimes, forkTarget } from '../core/child';
import { runAlternatingLoop, runClosedLoop } from '../core/closed-loop';
import type { BenchContext } from '../core/context';
import { createDriver } from '../core/driver';
import { preloadRevocations } from '../core/issuer';
import { median, round } from '../core/stats';
import { profileTarget } from '../targets/profile-target';
import { fillVerifierCache, targetEnv } from '../targets/start-targets';
import { BusHopSubjects, type TargetBusIdentity, type TargetReady } from '../targets/target-config';

const RATIO_GOAL = 0.9;
const TIMEOUT_MS = 10_000;

/** One bus of the comparison with the hop's two ends on it. */
interface HopSide {
  label: 'plain' | 'closed';
  /** The bus's own nats-server (the hop passes through it twice). */
  server: NatsServer;
  /** The Nest target answering `BusHopSubjects` (as `inventory` on the closed bus). */
  target: BenchChild<TargetReady>;
  /** The guarded hop from the bench process (as `orders` on the closed bus); counts its completions. */
  call: () => Promise<unknown>;
  completed: number;
}

/**
 * The same Relay NATS hop as the `nats` section's guarded warm case (`RelayNatsClient.send()` in a
 * `CallContext` to the Nest target's guarded handler), on two private buses started side by side: an
 * open plain-TCP `nats-server -js` and the closed bus (TLS, NKey identities, permissions), each with
 * its own target process and requester connection, the load alternating between them every 100 ms.
 * Judged: closed / plain calls per second. `track` registers the teardown with the bench's own, so an
 * interrupted run stops the servers and targets too.
 */
export async function benchClosedBus(
  context: BenchContext,
  track: (stop: () => Promise<void>) => void,
): Promise<void> {
  if (natsServerCommand() === undefined) {
    context.sink.skip('closed-bus', 'no nats-server binary (it starts two private buses)');
    return;
  }
  const stops: (() => Promise<void>)[] = [];
  let stopped: Promise<void> | undefined;
  const stopAll = (): Promise<void> =>
    (stopped ??= (async () => {
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
    })());
  track(stopAll);
  try {
    const [plainBus, closedBus] = await Promise.all([
      startNatsServer({ jetstream: true }),
      startNatsServer({ closed: true }),
    ]);
    stops.push(
      () => plainBus.stop(),
      () => closedBus.stop(),
    );
    const sides = await Promise.all([
      startSide(context, 'plain', plainBus, stops),
      startSide(context, 'closed', closedBus, stops),
    ]);
    await measure(context, sides[0], sides[1]);
  } finally {
    await stopAll();
  }
}

async function startSide(
  context: BenchContext,
  label: HopSide['label'],
  server: NatsServer,
  stops: (() => Promise<void>)[],
): Promise<HopSide> {
  const { options, world } = context;
  // the revocation bucket as the apps have it: created and filled by auth, read by the others
  const setup = await connect({ ...server.connectionOptions('auth'), name: 'relay-bench-setup' });
  try {
    await preloadRevocations(setup, REVOCATION_BUCKET, options.revokedEntries);
  } finally {
    await setup.drain();
  }
  const target = await forkTarget<TargetReady>(
    `nest-target (${label} bus)`,
    join(__dirname, '..', 'targets', 'nest-target.ts'),
    {
      env: targetEnv(world, {
        natsUrl: server.url,
        revocationBucket: REVOCATION_BUCKET,
        // bound to the bucket made above, as inventory is: the closed bus refuses its stream info
        createRevocationBucket: false,
        subjects: BusHopSubjects,
        identity: identityOf(server, 'inventory'),
      }),
    },
  );
  stops.push(() => target.stop());
  const requester = identityOf(server, 'orders');
  const driver: INestApplicationContext = await createDriver(world, {
    natsUrl: server.url,
    // the same name on both buses, so the plain bus's default inbox prefix is the closed one's
    serviceName: 'orders',
    natsTlsCaFile: requester?.tlsCaFile,
    natsNkeySeedFile: requester?.nkeySeedFile,
    natsInboxPrefix: requester?.inboxPrefix,
    revocationBucket: REVOCATION_BUCKET,
    createRevocationBucket: false,
  });
  stops.push(() => driver.close());
  await fillVerifierCache(target, world.resident);
  const relay = driver.get(RelayNatsClient);
  const side: HopSide = {
    label,
    server,
    target,
    completed: 0,
    call: async () => {
      const reply = await CallContext.run({ token: world.warmToken }, () =>
        relay.send(BusHopSubjects.guarded, {}, { timeoutMs: TIMEOUT_MS }),
      );
      side.completed += 1;
      return reply;
    },
  };
  return side;
}

/** `service`'s CA, seed and inbox prefix on a closed bus; `undefined` on an open one (anonymous, plain TCP). */
function identityOf(server: NatsServer, service: BusService): TargetBusIdentity | undefined {
  const bus = server.bus;
  if (bus === undefined) return undefined;
  return {
    tlsCaFile: bus.caFile,
    nkeySeedFile: bus.seedFiles[service],
    inboxPrefix: bus.inboxPrefixes[service],
  };
}

/** CPU µs per call each side's processes spent while `run` ran (`NaN` where `/proc` is missing). */
interface SideCpu {
  /** The Nest target (guard, handler, its end of the bus's TLS). */
  target: number;
  /** The side's nats-server (routing, permission checks, both connections' TLS). */
  server: number;
}

/**
 * Runs `run` and reads, per side, the CPU time its target and its nats-server used per call it
 * completed. Each side's processes work only in that side's phases (an idle bus only answers the
 * revocation feeds' pings, alike on both), so the figures split the closed bus's extra cost by process;
 * the requester shares the bench process with the other side's and is not split.
 */
async function withCpuPerCall<T>(
  sides: HopSide[],
  run: () => Promise<T>,
): Promise<{ result: T; cpu: SideCpu[] }> {
  const pidsOf = (side: HopSide) => [side.target.process.pid, side.server.pid];
  const read = () => Promise.all(sides.map((side) => Promise.all(pidsOf(side).map((pid) => cpuTimes(pid)))));
  const before = await read();
  const callsBefore = sides.map((side) => side.completed);
  const result = await run();
  const after = await read();
  const cpu = sides.map((side, index): SideCpu => {
    const calls = side.completed - callsBefore[index];
    const perCall = (part: number): number => {
      const [start, end] = [before[index][part], after[index][part]];
      if (start === undefined || end === undefined || calls === 0) return Number.NaN;
      return (end.user + end.system - start.user - start.system) / calls;
    };
    return { target: perCall(0), server: perCall(1) };
  });
  return { result, cpu };
}

async function measure(context: BenchContext, plain: HopSide, closed: HopSide): Promise<void> {
  const { options, sink } = context;
  const sides = [plain, closed];
  const alternate = (seconds: number) =>
    runAlternatingLoop(plain.call, closed.call, options.connections, seconds);
  await alternate(options.warmupSeconds);
  const cpuRounds: SideCpu[][] = [];
  const summary = await runAlternatingRounds(
    async (seconds) => {
      const { result, cpu } = await withCpuPerCall(sides, () => alternate(seconds));
      cpuRounds.push(cpu);
      return result;
    },
    { runs: options.runs, seconds: options.alternatingSeconds },
    'closed bus / plain bus',
  );
  const failures = summary.rounds.reduce((sum, result) => sum + result.failures, 0);
  if (failures > 0) sink.note(`nats.closed_bus.ratio: ${failures} failed requests`);
  const ratio = sink.judged(
    'nats.closed_bus.ratio',
    round(summary.ratio, 3),
    'x nats.closed_bus.plain.rps, alternating',
    `>= ${RATIO_GOAL}`,
    summary.ratio >= RATIO_GOAL && failures === 0,
  );
  const rates = [
    summary.rounds.map((result) => result.aPerSecond),
    summary.rounds.map((result) => result.bPerSecond),
  ];
  sides.forEach((side, index) => {
    sink.info(`nats.closed_bus.${side.label}.rps`, round(median(rates[index]), 0), 'requests/s');
    for (const part of ['target', 'server'] as const) {
      const cpu = median(cpuRounds.map((cpus) => cpus[index][part]));
      if (!Number.isNaN(cpu)) {
        sink.info(`nats.closed_bus.${side.label}.${part}_cpu`, round(cpu, 1), 'µs CPU per request');
      }
    }
  });
  // what the closed bus adds per hop outside the requester, round by round (both sides ran in it)
  const added = median(
    cpuRounds.map(
      ([plainCpu, closedCpu]) => closedCpu.target + closedCpu.server - plainCpu.target - plainCpu.server,
    ),
  );
  if (!Number.isNaN(added)) {
    sink.info('nats.closed_bus.cpu_added', round(added, 1), 'µs CPU per request, target + nats-server');
  }
  if ((ratio.met === false && options.mode === 'full') || options.profile) {
    const seconds = options.mode === 'quick' ? 1 : 4;
    for (const side of sides) {
      await profileTarget(context, side.target, `nats ${side.label} bus profile`, () =>
        runClosedLoop(side.call, options.connections, seconds),
      );
    }
  }
}
