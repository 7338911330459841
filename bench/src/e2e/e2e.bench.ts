import { join } from 'node:path';

import { describeError } from '@relay/contracts';

import { rssMiB, samplePeakRss } from '../core/child';
import { readCpuProfile, summariseProfile } from '../core/cpu-profile';
import type { FigureSink } from '../core/figures';
import { runHttpLoad } from '../core/http-load';
import type { LoadResult } from '../core/load-result';
import { type PrivateNats, startPrivateNats } from '../core/nats-server';
import type { BenchOptions, DatabaseKind } from '../core/options';
import { median, round, sleep } from '../core/stats';
import { profileDir } from '../targets/profile-target';
import {
  type ComparedStack,
  type Comparison,
  compareWithFloor,
  floorStack,
  pidOf,
  reportComparison,
  smokeFloor,
} from '../order-path/order-path.bench';
import { databaseNamesOf, type FloorStack, startFloorStack } from '../order-path/floor-stack';
import { APP_NAMES, createStackDatabases } from './databases';
import { ensureBuilt, prepare, type RelayStack, SKUS, startRelayStack, STOCK_PER_SKU } from './relay-stack';

/**
 * Length of each run on PostgreSQL, where Relay and the floor take turns: 2 s each instead of Relay's
 * `e2eSeconds` alone, so the pass takes about as long as before plus the floor's start-up.
 */
const ORDER_PATH_SECONDS = 2;

/** Rounds of the PGlite pass (figures reported, not judged). */
const PGLITE_ROUNDS = 1;

async function benchDatabase(
  kind: DatabaseKind,
  options: BenchOptions,
  sink: FigureSink,
  natsUrl: string,
): Promise<void> {
  let databases;
  try {
    databases = await createStackDatabases(kind, options.postgresUrl);
  } catch (error) {
    return sink.skip(
      `e2e ${kind}`,
      `no PostgreSQL at ${redact(options.postgresUrl)} (${describeError(error)})`,
    );
  }
  let stack: RelayStack | undefined;
  let ownNats: PrivateNats | undefined;
  try {
    // on PostgreSQL Relay gets a bus of its own, so the comparison with the floor can read its CPU
    if (kind === 'postgres') {
      ownNats = await startPrivateNats('relay-nats').catch((error: unknown) => {
        sink.skip('orders floor', describeError(error));
        return undefined;
      });
    }
    stack = await startRelayStack(options, ownNats?.url ?? natsUrl, databases);
    const token = await prepare(stack);
    await sleep(1000);
    for (const app of APP_NAMES) {
      sink.info(
        `memory.${kind}.${app}.idle`,
        round(await rssMiB(stack.apps[app].child.process.pid), 1),
        'MiB RSS',
      );
    }
    const started = stack;
    const orders = {
      url: `${stack.apps.orders.url}/orders`,
      method: 'POST' as const,
      headers: { authorization: `Bearer ${token}` },
      body: orderBody(),
      perRequest: () => ({ body: orderBody() }),
    };
    // on PostgreSQL the comparison with the floor warms both stacks up itself
    if (kind !== 'postgres' || ownNats === undefined) await runHttpLoad(orders, 10, options.warmupSeconds);
    const results = new Map<number, LoadResult[]>(options.e2eConcurrency.map((clients) => [clients, []]));
    const peak = Math.max(...options.e2eConcurrency);
    const peakRss = new Map<string, number[]>();
    const load = async (clients: number, seconds: number): Promise<LoadResult> => {
      const samplers =
        clients === peak
          ? APP_NAMES.map((app) => [app, samplePeakRss(started.apps[app].child.process.pid)] as const)
          : [];
      const result = await runHttpLoad(orders, clients, seconds);
      for (const [app, sampler] of samplers) {
        peakRss.set(app, [...(peakRss.get(app) ?? []), await sampler.stop()]);
      }
      return result;
    };
    const record = (runIndex: number, clients: number, result: LoadResult): void => {
      results.get(clients)?.push(result);
      process.stdout.write(
        `    round ${runIndex + 1} ${kind.padEnd(8)} c=${String(clients).padEnd(3)} ${result.rps.toFixed(0).padStart(6)} orders/s  p50 ${result.p50} ms  p99 ${result.p99} ms${result.failures > 0 ? `  failures ${result.failures}` : ''}\n`,
      );
    };
    if (kind === 'postgres' && ownNats !== undefined) {
      const relay: ComparedStack = {
        load,
        roles: {
          ...Object.fromEntries(APP_NAMES.map((app) => [app, pidOf(started.apps[app].child.process.pid)])),
          'nats-server': pidOf(ownNats.child.process.pid),
        },
        databaseNames: databaseNamesOf(databases),
        busTraffic: ownNats.traffic,
      };
      await compareOnPostgres(options, sink, relay, (clients, result) =>
        record(results.get(clients)?.length ?? 0, clients, result),
      );
    } else {
      // reported, not judged (an app started alone still uses PGlite; `npm start` a PostgreSQL):
      // one round keeps the run within its budget
      for (let runIndex = 0; runIndex < PGLITE_ROUNDS; runIndex += 1) {
        for (const clients of options.e2eConcurrency) {
          record(runIndex, clients, await load(clients, options.e2eSeconds));
        }
      }
    }
    for (const [clients, runs] of results) {
      sink.info(`e2e.${kind}.c${clients}.rps`, round(median(runs.map((run) => run.rps)), 0), 'orders/s');
      sink.info(`e2e.${kind}.c${clients}.p50`, round(median(runs.map((run) => run.p50))), 'ms');
      sink.info(`e2e.${kind}.c${clients}.p99`, round(median(runs.map((run) => run.p99))), 'ms');
      const failures = runs.reduce((sum, run) => sum + run.failures, 0);
      if (failures > 0) {
        sink.note(`e2e ${kind} c=${clients}: ${failures} requests failed (non-2xx, errors or timeouts)`);
      }
    }
    for (const app of APP_NAMES) {
      sink.info(
        `memory.${kind}.${app}.load`,
        round(Math.max(...(peakRss.get(app) ?? [Number.NaN])), 1),
        `MiB RSS (peak at ${peak} clients)`,
      );
    }
  } catch (error) {
    sink.skip(`e2e ${kind}`, describeError(error));
  } finally {
    await stack?.stop();
    await ownNats?.stop();
    await databases.drop().catch(() => undefined);
  }
  if (options.profile && stack !== undefined) await noteProfiles(options, sink, kind, stack);
}

/** With `--profile`: where each app's CPU time went over its life (`--cpu-prof`, written as it exited). */
async function noteProfiles(
  options: BenchOptions,
  sink: FigureSink,
  kind: DatabaseKind,
  stack: RelayStack,
): Promise<void> {
  for (const app of Object.values(stack.apps)) {
    if (app.profilePath === undefined) continue;
    try {
      const summary = summariseProfile(await readCpuProfile(app.profilePath));
      const file = app.profilePath.replace(`${options.workspaceRoot}/`, '');
      sink.note(`e2e ${kind} ${app.name} (self time over its life, ${file}): by area: ${summary.areas}`);
      sink.note(`e2e ${kind} ${app.name}: top functions: ${summary.functions}`);
    } catch (error) {
      sink.note(`e2e ${kind} ${app.name}: no profile (${describeError(error)})`);
    }
  }
}

/**
 * Relay against the floor of its order path (`src/order-path/`), in turns at each concurrency, on
 * the same PostgreSQL server: `ORDER_PATH_SECONDS` per run, so the pass stays as long as Relay's
 * runs alone took.
 */
async function compareOnPostgres(
  options: BenchOptions,
  sink: FigureSink,
  relay: ComparedStack,
  onRelayRun: (clients: number, result: LoadResult) => void,
): Promise<void> {
  let floor: FloorStack | undefined;
  try {
    floor = await startFloorStack(options.postgresUrl, stockLevels());
    const started = floor;
    const compare = (): Promise<Comparison> =>
      compareWithFloor(options, relay, floorStack(started, orderBody), orderPathSeconds(options), onRelayRun);
    reportComparison(
      sink,
      options.profile ? await profileFloor(options, sink, started, compare) : await compare(),
    );
  } catch (error) {
    sink.skip('orders floor', describeError(error));
  } finally {
    await floor?.stop();
  }
}

/** With `--profile`: profiles the floor's two processes over the whole comparison (as the apps are). */
async function profileFloor<T>(
  options: BenchOptions,
  sink: FigureSink,
  floor: FloorStack,
  work: () => Promise<T>,
): Promise<T> {
  const targets = [floor.orders, floor.inventory];
  await Promise.all(targets.map((target) => target.command({ type: 'profile-start' }, 'profiling')));
  const result = await work();
  for (const target of targets) {
    const file = join(profileDir(options.workspaceRoot), `${target.name}.cpuprofile`);
    await target.command({ type: 'profile-stop', path: file }, 'profiled');
    const summary = summariseProfile(await readCpuProfile(file));
    sink.note(
      `${target.name} (self time, ${file.replace(`${options.workspaceRoot}/`, '')}): by area: ${summary.areas}`,
    );
    sink.note(`${target.name}: top functions: ${summary.functions}`);
  }
  return result;
}

/**
 * In a run without PostgreSQL among its databases (the smoke run's default), the floor alone, briefly,
 * when the server answers: it keeps the floor's code from rotting where Relay is not compared with it.
 */
async function smokeFloorAlone(options: BenchOptions, sink: FigureSink): Promise<void> {
  let floor: FloorStack | undefined;
  try {
    floor = await startFloorStack(options.postgresUrl, stockLevels());
    await smokeFloor(options, sink, floorStack(floor, orderBody), orderPathSeconds(options));
  } catch (error) {
    sink.skip('orders floor', describeError(error));
  } finally {
    await floor?.stop();
  }
}

function orderPathSeconds(options: BenchOptions): number {
  return options.mode === 'quick' ? options.e2eSeconds : ORDER_PATH_SECONDS;
}

function stockLevels(): Record<string, number> {
  return Object.fromEntries(SKUS.map((sku) => [sku, STOCK_PER_SKU]));
}

let nextSku = 0;

/** One item of the next bench sku, round robin. */
function orderBody(): string {
  nextSku = (nextSku + 1) % SKUS.length;
  return JSON.stringify({ items: [{ sku: SKUS[nextSku], quantity: 1 }] });
}

// everything up to the last `@`: a password may hold one
function redact(url: string): string {
  return url.replace(/\/\/[^]*@/, '//');
}

/**
 * End to end: `POST /orders` through the real apps (HTTP → orders → NATS → inventory → database →
 * reply) at each concurrency, on PGlite and on PostgreSQL, and the apps' RSS idle and under load. On
 * PostgreSQL, Relay takes turns with the floor of its order path (`orders.floor_ratio.*`, CPU per
 * order of every process).
 */
export async function benchE2e(options: BenchOptions, sink: FigureSink, natsUrl: string): Promise<void> {
  const unbuilt = ensureBuilt(options);
  if (unbuilt !== undefined) return sink.skip('e2e', unbuilt);
  for (const kind of options.databases) await benchDatabase(kind, options, sink, natsUrl);
  if (!options.databases.includes('postgres')) await smokeFloorAlone(options, sink);
}
