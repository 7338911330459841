import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { forkTarget, rssMiB, samplePeakRss } from '../core/child';
import type { FigureSink } from '../core/figures';
import { type HttpScenario, runHttpLoad } from '../core/http-load';
import type { LoadResult } from '../core/load-result';
import { startBenchNats } from '../core/nats-server';
import type { BenchOptions } from '../core/options';
import { median, round, sleep } from '../core/stats';
import { APP_NAMES, createStackDatabases, type StackDatabases } from '../e2e/databases';
import { ensureBuilt, prepare, type RelayStack, SKUS, startRelayStack } from '../e2e/relay-stack';
import { ServerMemory } from './server-memory';

/** The candidates for what `npm start` runs without a DATABASE_URL, and the server they are held to. */
const VARIANTS = ['pglite', 'npm-postgres', 'system-postgres'] as const;
type Variant = (typeof VARIANTS)[number];

const CLIENTS = 50;
/** Length of one stack's turn in a round (full run). */
const ROUND_SECONDS = 2.5;
// the goals for the demo's default: data of the three apps ≤ 300 MiB, ≥ 0.8 of a PostgreSQL
// server's orders/s at 50 clients, p99 ≤ 250 ms
const GOALS = { databaseMiB: 300, vsServer: 0.8, p99Ms: 250 };

/** A variant's databases, and (servers) how to read the memory the server spends on them. */
interface VariantDatabases extends StackDatabases {
  openMemory?: () => Promise<ServerMemory>;
}

interface VariantResult {
  rps: number;
  /** Orders/s of each round, in round order (ratios pair the runs of one round). */
  rpsByRound: number[];
  p99: number;
  failures: number;
  appsIdle: number;
  appsLoad: number;
  databaseIdle?: number;
  databaseLoad?: number;
}

const databaseName = (url: string): string => new URL(url).pathname.slice(1);

/** One PostgreSQL server of the demo's launcher, in a forked process, with a fresh DATA_DIR. */
async function npmPostgres(): Promise<VariantDatabases> {
  // under /tmp, not os.tmpdir(): macOS's (/var/folders/…) would leave the server's socket path past
  // what a socket address holds, and the apps on TCP, unlike the demo's
  const dataDir = mkdtempSync(join('/tmp', 'relay-bench-pg-'));
  // run as root, the launcher runs PostgreSQL as nobody, which must get through mkdtemp's 0700
  chmodSync(dataDir, 0o755);
  try {
    const server = await forkTarget<{ urls: Record<string, string> }>(
      'npm-postgres',
      join(__dirname, 'npm-postgres-server.mjs'),
      { env: { BENCH_EMBEDDED_DATA_DIR: dataDir, BENCH_EMBEDDED_DATABASES: APP_NAMES.join(',') } },
    );
    const { urls } = server.ready;
    return {
      dataDir,
      urls,
      openMemory: () => ServerMemory.open(urls['auth'], APP_NAMES),
      drop: async () => {
        await server.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

async function variantDatabases(variant: Variant, options: BenchOptions): Promise<VariantDatabases> {
  if (variant === 'pglite') return createStackDatabases('pglite', options.postgresUrl);
  if (variant === 'npm-postgres') return npmPostgres();
  const databases = await createStackDatabases('postgres', options.postgresUrl);
  const names = Object.values(databases.urls).map(databaseName);
  return { ...databases, openMemory: () => ServerMemory.open(options.postgresUrl, names) };
}

const appsRss = async (stack: RelayStack): Promise<number> =>
  (await Promise.all(APP_NAMES.map((app) => rssMiB(stack.apps[app].child.process.pid)))).reduce(
    (sum, rss) => sum + rss,
    0,
  );

/** One variant's running stack: its own NATS, databases and apps, a customer's token, the figures so far. */
interface Contender {
  variant: Variant;
  stack: RelayStack;
  memory?: ServerMemory;
  orders: HttpScenario;
  runs: LoadResult[];
  appsPeaks: number[];
  databasePeaks: number[];
  idle: { apps: number; database?: number };
  stop(): Promise<void>;
}

/** Starts a variant's stack on a private NATS (the stacks run side by side), ready to take orders. */
async function startContender(variant: Variant, options: BenchOptions): Promise<Contender> {
  const nats = await startBenchNats();
  const databases = await variantDatabases(variant, options).catch(async (error: unknown) => {
    await nats.stop();
    throw error;
  });
  let stack: RelayStack | undefined;
  let memory: ServerMemory | undefined;
  const stop = async (): Promise<void> => {
    await memory?.close().catch(() => undefined);
    await stack?.stop();
    await databases.drop().catch(() => undefined);
    await nats.stop();
  };
  try {
    stack = await startRelayStack(options, nats.url, databases);
    memory = await databases.openMemory?.();
    const token = await prepare(stack);
    let next = 0;
    const orders: HttpScenario = {
      url: `${stack.apps.orders.url}/orders`,
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ items: [{ sku: SKUS[0], quantity: 1 }] }),
      perRequest: () => ({
        body: JSON.stringify({ items: [{ sku: SKUS[(next += 1) % SKUS.length], quantity: 1 }] }),
      }),
    };
    return {
      variant,
      stack,
      memory,
      orders,
      runs: [],
      appsPeaks: [],
      databasePeaks: [],
      idle: { apps: 0 },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** One run at 50 clients, sampling the apps' RSS and the server's PSS at their peak meanwhile. */
async function runOnce(contender: Contender, seconds: number): Promise<void> {
  const apps = APP_NAMES.map((app) => samplePeakRss(contender.stack.apps[app].child.process.pid));
  const database = contender.memory?.samplePeak();
  contender.runs.push(await runHttpLoad(contender.orders, CLIENTS, seconds));
  const peaks = await Promise.all(apps.map((sampler) => sampler.stop()));
  contender.appsPeaks.push(peaks.reduce((sum, peak) => sum + peak, 0));
  if (database) contender.databasePeaks.push(await database.stop());
}

/**
 * The stacks' idle memory, then `options.runs` rounds, each running every stack in turn (the order
 * rotating): on a shared, noisy machine, stacks measured in the same round meet the same weather.
 */
async function measure(contenders: Contender[], options: BenchOptions): Promise<void> {
  await sleep(1000);
  for (const contender of contenders) {
    contender.idle = { apps: await appsRss(contender.stack), database: await contender.memory?.pss() };
  }
  // at the measured load and long enough for V8 to compile the apps' hot paths: a stack's first
  // seconds at 50 clients ran at half its later rate, and their p99 was the judged one
  for (const contender of contenders) {
    await runHttpLoad(contender.orders, CLIENTS, options.stackWarmupSeconds);
  }
  for (let round = 0; round < options.runs; round += 1) {
    for (let turn = 0; turn < contenders.length; turn += 1) {
      const contender = contenders[(round + turn) % contenders.length];
      await runOnce(contender, options.mode === 'quick' ? options.e2eSeconds : ROUND_SECONDS);
      const last = contender.runs[contender.runs.length - 1];
      process.stdout.write(
        `    round ${round + 1} ${contender.variant.padEnd(16)} ${last.rps.toFixed(0).padStart(6)} orders/s  p99 ${last.p99} ms\n`,
      );
    }
  }
}

function resultOf(contender: Contender): VariantResult {
  const { runs, idle } = contender;
  return {
    rps: median(runs.map((run) => run.rps)),
    rpsByRound: runs.map((run) => run.rps),
    p99: median(runs.map((run) => run.p99)),
    failures: runs.reduce((sum, run) => sum + run.failures, 0),
    appsIdle: idle.apps,
    appsLoad: Math.max(...contender.appsPeaks),
    ...(contender.memory && {
      databaseIdle: idle.database,
      databaseLoad: Math.max(...contender.databasePeaks),
    }),
  };
}

/** The median over rounds of `a`'s orders/s over `b`'s in the same round. */
function pairedRatio(a: VariantResult, b: VariantResult): number {
  return median(a.rpsByRound.map((rps, index) => rps / (b.rpsByRound[index] ?? Number.NaN)));
}

function report(sink: FigureSink, results: Map<Variant, VariantResult>): void {
  for (const [variant, result] of results) {
    sink.info(`embedded.${variant}.c${CLIENTS}.rps`, round(result.rps, 0), 'orders/s');
    sink.info(`embedded.${variant}.c${CLIENTS}.p99`, round(result.p99), 'ms');
    sink.info(`embedded.${variant}.apps.idle`, round(result.appsIdle, 0), 'MiB RSS (3 apps)');
    sink.info(
      `embedded.${variant}.apps.load`,
      round(result.appsLoad, 0),
      `MiB RSS (3 apps, peak at ${CLIENTS} clients)`,
    );
    if (result.databaseIdle !== undefined) {
      sink.info(`embedded.${variant}.database.idle`, round(result.databaseIdle, 0), 'MiB PSS');
    }
    if (result.failures > 0) sink.note(`embedded ${variant}: ${result.failures} orders failed`);
  }
  const server = results.get('system-postgres');
  const pglite = results.get('pglite');
  if (pglite && server) {
    // PGlite runs inside each app: its data costs what the apps hold beyond the same apps on a server
    sink.info(
      'embedded.pglite.database.load',
      round(pglite.appsLoad - server.appsLoad, 0),
      'MiB RSS beyond the apps on a server',
    );
    sink.info(
      `embedded.pglite.c${CLIENTS}.vs-server`,
      round(pairedRatio(pglite, server)),
      'x system-postgres',
    );
  }
  const npm = results.get('npm-postgres');
  if (npm?.databaseLoad === undefined) return;
  const database = round(npm.databaseLoad, 0);
  sink.judged(
    'embedded.npm-postgres.database.load',
    database,
    `MiB PSS (peak at ${CLIENTS} clients)`,
    `<= ${GOALS.databaseMiB}`,
    database <= GOALS.databaseMiB,
  );
  sink.judged(
    `embedded.npm-postgres.c${CLIENTS}.p99`,
    round(npm.p99),
    'ms',
    `<= ${GOALS.p99Ms}`,
    npm.p99 <= GOALS.p99Ms,
  );
  if (server) {
    const ratio = round(pairedRatio(npm, server));
    sink.judged(
      `embedded.npm-postgres.c${CLIENTS}.vs-server`,
      ratio,
      'x system-postgres',
      `>= ${GOALS.vsServer}`,
      ratio >= GOALS.vsServer,
    );
  }
}

/**
 * What `npm start` should run without a DATABASE_URL: the three apps on a PGlite each, on one
 * PostgreSQL server from the npm-shipped binaries (the demo's launcher), and on the PostgreSQL server
 * the bench is given, side by side: orders/s and p99 at 50 clients, the apps' RSS, the database's memory.
 */
export async function benchEmbedded(options: BenchOptions, sink: FigureSink): Promise<void> {
  const unbuilt = ensureBuilt(options);
  if (unbuilt !== undefined) return sink.skip('embedded', unbuilt);
  const contenders: Contender[] = [];
  try {
    for (const variant of VARIANTS) {
      try {
        contenders.push(await startContender(variant, options));
      } catch (error) {
        sink.skip(`embedded ${variant}`, error instanceof Error ? error.message : String(error));
      }
    }
    await measure(contenders, options);
    report(sink, new Map(contenders.map((contender) => [contender.variant, resultOf(contender)])));
  } finally {
    await Promise.all(contenders.map((contender) => contender.stop()));
  }
}
