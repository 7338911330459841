import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';

import * as argon2 from 'argon2';
import { Client } from 'pg';

import { describeError } from '@relay/contracts';

import { runClosedLoop } from '../core/closed-loop';
import type { FigureSink } from '../core/figures';
import type { BenchOptions, DatabaseKind } from '../core/options';
import { median, percentileOfSorted, round, sleep } from '../core/stats';
import { createStackDatabases, type StackDatabases } from '../e2e/databases';
import { ensureBuilt, type StackApp, startStackApps } from '../e2e/relay-stack';
import { LoginCpuMeter, type Metered, reportLoginCpu } from './login-cpu';

/**
 * The password parameters auth stores (SECURITY P1, `ARGON2_OPTIONS` in apps/auth): the floor hashes
 * with these, and `checkFloorMatchesAuth` refuses to judge when auth's stored hashes say otherwise.
 */
const ARGON2_FLOOR_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 };
const PASSWORD = 'bench-login-password';
const LOGIN_CLIENTS = 10;
const FLOOD_CLIENTS = 50;
const FLOOR_GOAL = 0.9;
/**
 * A login waits for at most one running hash per core before its own check (verifications go first),
 * so under any register flood its p99 stays within about two Argon2 times of a login alone; the goal
 * leaves one more for the CPU the flood's requests take from the event loop.
 */
const FLOOD_P99_GOAL = 3;

/**
 * Logins against their floor, and a login under a registration flood: auth alone (from `dist/`), on
 * PostgreSQL when the bench has one, else PGlite.
 *
 * - `logins.floor_ratio` (issue: logins ≥ 0.90 of the floor): logins per second at 10 clients against
 *   Argon2id verifications per second of 10 callers in the bench process, one check per core at once
 *   as auth's gate runs them (the same parameters, the same cores: one password check per login is
 *   the floor), in turns.
 * - `logins.flood.p99_ratio` (the Argon2 bound of the issuer's hardening): the p99 of one client's
 *   sequential logins while 50 clients register new accounts at once, against the same client's p99
 *   with nobody registering, rounds taken in turn. The per-address registration limit is lifted for
 *   the bench (a flood from many addresses), so the registrations reach Argon2 and the gate is what
 *   is measured.
 */
export async function benchLogins(options: BenchOptions, sink: FigureSink, natsUrl: string): Promise<void> {
  const unbuilt = ensureBuilt(options);
  if (unbuilt !== undefined) return sink.skip('logins', unbuilt);
  const { kind, databases } = await loginDatabases(options);
  let stack: Awaited<ReturnType<typeof startAuth>> | undefined;
  try {
    stack = await startAuth(options, natsUrl, databases);
    const auth = stack.apps.auth;
    process.stdout.write(`    auth on ${kind}\n`);
    const accounts = await Promise.all(
      Array.from({ length: LOGIN_CLIENTS }, () => register(auth, newEmail('login'))),
    );
    const floorHash = await argon2.hash(PASSWORD, ARGON2_FLOOR_OPTIONS);
    await checkFloorMatchesAuth(databases, floorHash);
    await measureFloor(options, sink, auth, accounts, floorHash, databases);
    await measureFlood(options, sink, auth, accounts[0]);
  } catch (error) {
    sink.skip('logins', describeError(error));
  } finally {
    keepAlive.destroy();
    await stack?.stop();
    await databases.drop().catch(() => undefined);
  }
}

function startAuth(options: BenchOptions, natsUrl: string, databases: StackDatabases) {
  return startStackApps(options, natsUrl, databases, ['auth'] as const);
}

/** A PostgreSQL server when the run includes one and it answers, else PGlite. */
async function loginDatabases(
  options: BenchOptions,
): Promise<{ kind: DatabaseKind; databases: StackDatabases }> {
  if (options.databases.includes('postgres')) {
    try {
      return { kind: 'postgres', databases: await createStackDatabases('postgres', options.postgresUrl) };
    } catch {
      // no server: the embedded default
    }
  }
  return { kind: 'pglite', databases: await createStackDatabases('pglite', options.postgresUrl) };
}

/**
 * On PostgreSQL, compares the Argon2 parameters of a hash auth stored (`$argon2id$v=19$m=…,t=…,p=…$`)
 * with the floor's, so the floor cannot drift from what a login really checks. (PGlite's data is
 * held by the auth process.)
 */
async function checkFloorMatchesAuth(databases: StackDatabases, floorHash: string): Promise<void> {
  const url = databases.urls.auth;
  if (url === undefined) return;
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ password_hash: string }>('SELECT password_hash FROM users LIMIT 1');
    const parameters = (hash: string | undefined): string => hash?.split('$').slice(1, 4).join('$') ?? '';
    if (parameters(rows[0]?.password_hash) !== parameters(floorHash)) {
      throw new Error(
        `auth hashes with ${parameters(rows[0]?.password_hash)}, the floor with ${parameters(floorHash)}`,
      );
    }
  } finally {
    await client.end();
  }
}

async function measureFloor(
  options: BenchOptions,
  sink: FigureSink,
  auth: StackApp,
  accounts: string[],
  floorHash: string,
  databases: StackDatabases,
): Promise<void> {
  let nextAccount = 0;
  const loginOnce = async (): Promise<void> => {
    const email = accounts[(nextAccount += 1) % accounts.length];
    await login(auth, email);
  };
  // as many checks at once as auth's Argon2 gate runs (one per core), the other callers waiting
  const floorSlots = new Slots(availableParallelism());
  const verifyOnce = async (): Promise<void> => {
    const verified = await floorSlots.run(() => argon2.verify(floorHash, PASSWORD));
    if (!verified) throw new Error('the floor hash did not verify');
  };
  const seconds = options.mode === 'quick' ? 1 : 3;
  await runClosedLoop(loginOnce, LOGIN_CLIENTS, options.warmupSeconds);
  const rounds: Array<{ floor: Metered; logins: Metered; ratio: number }> = [];
  const meter = await LoginCpuMeter.open(options, auth, databases);
  try {
    for (let roundIndex = 0; roundIndex < options.runs; roundIndex += 1) {
      const run = (call: () => Promise<void>) => meter.run(() => runClosedLoop(call, LOGIN_CLIENTS, seconds));
      let floor: Metered;
      let logins: Metered;
      // floor first in even rounds, logins first in odd ones
      if (roundIndex % 2 === 0) {
        floor = await run(verifyOnce);
        logins = await run(loginOnce);
      } else {
        logins = await run(loginOnce);
        floor = await run(verifyOnce);
      }
      rounds.push({ floor, logins, ratio: logins.result.rps / floor.result.rps });
      process.stdout.write(
        `    round ${roundIndex + 1} logins / Argon2id floor       ${(logins.result.rps / floor.result.rps).toFixed(3)}  ` +
          `(${logins.result.rps.toFixed(1)} / ${floor.result.rps.toFixed(1)} per s)\n`,
      );
    }
  } finally {
    await meter.close();
  }
  const ratio = median(rounds.map((result) => result.ratio));
  const failures = rounds.reduce(
    (sum, result) => sum + result.logins.result.failures + result.floor.result.failures,
    0,
  );
  if (failures > 0) sink.note(`logins.floor_ratio: ${failures} failed calls`);
  sink.judged(
    'logins.floor_ratio',
    round(ratio, 3),
    `x Argon2id verifications/s, ${LOGIN_CLIENTS} callers, one check per core at once, in turns`,
    `>= ${FLOOR_GOAL}`,
    ratio >= FLOOR_GOAL && failures === 0,
  );
  sink.info('logins.c10.rps', round(median(rounds.map((result) => result.logins.result.rps)), 1), 'logins/s');
  sink.info('logins.c10.p99', round(median(rounds.map((result) => result.logins.result.p99))), 'ms');
  sink.info(
    'logins.floor.rps',
    round(median(rounds.map((result) => result.floor.result.rps)), 1),
    'Argon2id verifications/s',
  );
  reportLoginCpu(
    sink,
    rounds.map((result) => result.logins.cpu),
    rounds.map((result) => result.floor.cpu),
  );
}

async function measureFlood(
  options: BenchOptions,
  sink: FigureSink,
  auth: StackApp,
  email: string,
): Promise<void> {
  const seconds = options.mode === 'quick' ? 2 : 4;
  const quiet: number[] = [];
  const flooded: number[] = [];
  let registrations = 0;
  let refused = 0;
  const loginTimes = async (into: number[]): Promise<void> => {
    const deadline = performance.now() + seconds * 1000;
    while (performance.now() < deadline) {
      const started = performance.now();
      await login(auth, email);
      into.push(performance.now() - started);
    }
  };
  // two quiet and two flooded turns in a full run (one each with --quick)
  for (let roundIndex = 0; roundIndex < (options.mode === 'quick' ? 1 : 2); roundIndex += 1) {
    await loginTimes(quiet);
    let flooding = true;
    const flood = Promise.all(
      Array.from({ length: FLOOD_CLIENTS }, async () => {
        while (flooding) {
          const status = await registerStatus(auth, newEmail('flood'));
          if (status === 201) registrations += 1;
          else if (status === 503 || status === 429) refused += 1;
          else throw new Error(`POST /auth/register answered ${status} during the flood`);
        }
      }),
    );
    // the flood's requests queue up before the first measured login
    await sleep(500);
    await loginTimes(flooded);
    flooding = false;
    await flood;
  }
  const p99 = (values: number[]): number =>
    percentileOfSorted(
      [...values].sort((a, b) => a - b),
      99,
    );
  const ratio = p99(flooded) / p99(quiet);
  sink.judged(
    'logins.flood.p99_ratio',
    round(ratio, 2),
    `x login p99 alone, with ${FLOOD_CLIENTS} clients registering at once`,
    `<= ${FLOOD_P99_GOAL}`,
    ratio <= FLOOD_P99_GOAL,
  );
  sink.info('logins.alone.p99', round(p99(quiet)), `ms (${quiet.length} logins, one client)`);
  sink.info('logins.flood.p99', round(p99(flooded)), `ms (${flooded.length} logins, one client)`);
  sink.info(
    'logins.flood.registrations',
    registrations,
    `accounts created during the flood (${refused} refused with 503/429)`,
  );
}

/**
 * At most `size` tasks at once, the rest waiting in turn: the floor's checks run as auth's `Argon2Gate`
 * runs them. Unbounded, ten checks in flight would run on libuv's four threads at once, and on a
 * shared machine four threads take a larger share of the cores from other processes than auth's two
 * do (measured: the floor's rate moved 23-89 per s between turns, the ratio with it).
 */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(size: number) {
    this.free = size;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free -= 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next === undefined) this.free += 1;
      else next();
    }
  }
}

function newEmail(kind: string): string {
  return `bench-${kind}-${randomUUID()}@relay.test`;
}

// node:http with kept-alive connections rather than fetch: the load generator shares the cores with
// auth and Argon2, and fetch (undici's web streams) spent about twice the CPU per login (measured:
// 1.7-2.1 ms against 0.8-1.0 ms), CPU the floor's turns never pay
const keepAlive = new Agent({ keepAlive: true, maxSockets: FLOOD_CLIENTS + LOGIN_CLIENTS });
const REQUEST_TIMEOUT_MS = 30_000;

/** POSTs `body` as JSON and resolves the status once the whole answer is read. */
function post(app: StackApp, path: string, body: unknown): Promise<number> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      `${app.url}${path}`,
      {
        method: 'POST',
        agent: keepAlive,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`POST ${path} timed out`)));
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

function registerStatus(app: StackApp, email: string): Promise<number> {
  return post(app, '/auth/register', { email, password: PASSWORD });
}

async function register(app: StackApp, email: string): Promise<string> {
  const status = await registerStatus(app, email);
  if (status !== 201) throw new Error(`POST /auth/register answered ${status}`);
  return email;
}

async function login(app: StackApp, email: string): Promise<void> {
  const status = await post(app, '/auth/login', { email, password: PASSWORD });
  if (status !== 200) throw new Error(`POST /auth/login answered ${status}`);
}
