// Called by `npm start`: builds and runs auth, orders and inventory on a closed NATS bus of its own; `--check` runs the walkthrough and exits 0/1.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { startEmbeddedPostgres } from './embedded-postgres.mjs';
import { startJourney } from './journey/index.mjs';

const require = createRequire(import.meta.url);
// Plain Node resolves no @relay/* alias: @relay/nats-bus by the file its package.json names as main.
// eslint-disable-next-line @nx/enforce-module-boundaries
const { connectionInfo, writeBusMaterial } = require('../../libs/nats-bus/src/closed-bus.js');
const {
  DEMO_ADMIN_EMAIL,
  demoAppEnv,
  demoKeyEncryptionKey,
  demoServiceClients,
  mergeAuthClients,
  requireOwnAdminPasswordOffLoopback,
  writeWhole,
} = require('./demo-env.cjs');

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ARGS = new Set(process.argv.slice(2));
const IS_CHECK = ARGS.has('--check');
const SKIP_BUILD = ARGS.has('--skip-build');
const HEALTH_TIMEOUT_MS = Number(process.env.DEMO_HEALTH_TIMEOUT_MS ?? 60_000);
const DATA_DIR = resolve(ROOT, process.env.DATA_DIR ?? '.data');
const NATS_DIR = join(DATA_DIR, 'nats');
const NATS_HOST = '127.0.0.1';
const NATS_DEFAULT_PORT = 4222;
const DEMO_SKU = 'sku-apple';
const ADMIN_EMAIL = process.env.AUTH_ADMIN_EMAIL ?? DEMO_ADMIN_EMAIL;
const ADMIN_PASSWORD = process.env.AUTH_ADMIN_PASSWORD ?? 'relay-demo-admin';
const JOURNEY_PORT = Number(process.env.JOURNEY_PORT ?? 3100);
const APPS = [
  { name: 'auth', port: 3000, databaseUrl: process.env.AUTH_DATABASE_URL },
  { name: 'orders', port: 3001, databaseUrl: process.env.ORDERS_DATABASE_URL },
  { name: 'inventory', port: 3002, databaseUrl: process.env.INVENTORY_DATABASE_URL },
].map((app) => ({ ...app, url: `http://127.0.0.1:${app.port}` }));
const ISSUER = process.env.AUTH_ISSUER ?? appUrl('auth');

/**
 * An app's address: 127.0.0.1, where the apps listen, not localhost: a client tries localhost's ::1
 * first, where another local process may listen on the same port (and would then serve the services
 * their signing keys).
 */
function appUrl(name, path = '') {
  return `${APPS.find((app) => app.name === name).url}${path}`;
}

const children = [];
/** The demo's PostgreSQL server (tools/scripts/embedded-postgres.mjs), when some app has no database URL of the caller's. */
let database;
/** Stops the demo's PostgreSQL while `startEmbeddedPostgres` has not answered yet. */
let stopStartingDatabase;
/** The token's journey page (tools/scripts/journey), which also receives the apps' spans. */
let journey;
let isStopping = false;

const say = (line) => process.stdout.write(`[demo] ${line}\n`);

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

function pipeWithPrefix(stream, prefix, out) {
  createInterface({ input: stream }).on('line', (line) => out.write(`${prefix} ${line}\n`));
}

function startChild(name, command, args, env) {
  // stopping already (Ctrl-C while the bus or the apps were being set up): what starts now would
  // outlive the demo, as stopAll has chosen what it stops
  if (isStopping) throw new Error(`stopping: ${name} not started`);
  const child = spawn(command, args, {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `[${name}]`.padEnd(12);
  pipeWithPrefix(child.stdout, prefix, process.stdout);
  pipeWithPrefix(child.stderr, prefix, process.stderr);
  child.on('exit', (code, signal) => {
    if (isStopping) return;
    say(`${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping everything.`);
    void stopAll(1);
  });
  children.push({ name, child });
  return child;
}

/** Resolves with whether `port` can be listened on at NATS_HOST (4222 is often taken by another NATS). */
function isPortFree(port, host = NATS_HOST) {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, host, () => server.close(() => done(true)));
  });
}

function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, NATS_HOST, () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/** Resolves once the bus accepts a TLS connection as auth (its CA, its NKey), so the bus works end to end. */
async function waitForBus(bus) {
  const { connect, nkeyAuthenticator } = require('nats');
  const seed = new TextEncoder().encode(readFileSync(bus.seedFiles.auth, 'utf8').trim());
  let last = 'no answer';
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(200)) {
    try {
      const connection = await connect({
        servers: bus.url,
        tls: { caFile: bus.caFile },
        authenticator: nkeyAuthenticator(seed),
        inboxPrefix: bus.inboxPrefixes.auth,
        name: 'relay-demo-probe',
        reconnect: false,
        timeout: 1000,
      });
      await connection.close();
      return;
    } catch (error) {
      last = error instanceof Error ? (error.code ?? error.message) : String(error);
    }
  }
  throw new Error(`nats-server did not accept a TLS connection at ${bus.url} within 10 s (last: ${last})`);
}

/**
 * Starts the demo's own closed bus: fresh material (CA, server certificate, one NKey per service) in
 * ${DATA_DIR}/nats each run, the JetStream store kept in ${DATA_DIR}/nats/store (revocations persist),
 * on 127.0.0.1:4222 when free. Never an open NATS that happens to run there.
 */
async function startBus() {
  const storeDir = join(NATS_DIR, 'store');
  mkdirSync(storeDir, { recursive: true });
  const material = await writeBusMaterial(NATS_DIR, { storeDir });
  const port = (await isPortFree(NATS_DEFAULT_PORT)) ? NATS_DEFAULT_PORT : await freePort();
  if (port !== NATS_DEFAULT_PORT) say(`127.0.0.1:${NATS_DEFAULT_PORT} is taken; the bus listens on ${port}`);
  const bus = connectionInfo(`tls://${NATS_HOST}:${port}`, material);
  // the previous run's names a bus that is gone (and its material, replaced above): written again
  // once this one is up
  const connectionFile = join(NATS_DIR, 'connection.json');
  rmSync(connectionFile, { force: true });
  say(`starting the closed bus: nats-server on ${bus.url} (TLS, one NKey per service; store ${storeDir})`);
  // JetStream and its store come from the config (its `jetstream` block); -sd as well would be a duplicate
  // nothing of the caller's environment but where to find things: it holds the demo's secrets
  startChild('nats', NATS_SERVER, ['-c', material.configFile, '-a', NATS_HOST, '-p', String(port)], {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
  });
  await waitForBus(bus);
  writeWhole(connectionFile, `${JSON.stringify(bus, null, 2)}\n`);
  say(`bus connection details (url, CA, seed files, inbox prefixes): ${connectionFile}`);
  return bus;
}

/**
 * One PostgreSQL 17 server from the npm-shipped binaries, its cluster in ${DATA_DIR}/postgres, with a
 * database for each app the caller gave no *_DATABASE_URL: one server holds the three apps' data in
 * far less memory than a PGlite in each app (docs/embedded-database.md).
 */
async function startDatabase() {
  const apps = APPS.filter((app) => !app.databaseUrl);
  if (apps.length === 0) return;
  say(
    `starting PostgreSQL 17 (npm-shipped binaries; data in ${join(DATA_DIR, 'postgres')}) for ${apps.map((app) => app.name).join(', ')}`,
  );
  const prefix = '[postgres]'.padEnd(12);
  database = await startEmbeddedPostgres({
    dataDir: DATA_DIR,
    databases: apps.map((app) => app.name),
    log: (line) => process.stdout.write(`${prefix} ${line}\n`),
    // a stop (SIGTERM, the terminal closing) while it starts must stop it too: it ignores SIGHUP
    onSpawn: (stop) => (stopStartingDatabase = stop),
  });
  database.child.on('exit', (code, signal) => {
    if (isStopping) return;
    say(`postgres exited unexpectedly (${signal ?? `code ${code}`}); stopping everything.`);
    void stopAll(1);
  });
  for (const app of apps) app.databaseUrl = database.urls[app.name];
  const socket = database.socketDir === undefined ? '' : ` and on a socket in ${database.socketDir}`;
  say(
    `PostgreSQL listens on 127.0.0.1:${database.port}${socket} (password in ${join(DATA_DIR, 'postgres', 'password')})`,
  );
}

/**
 * The nats-server to run: `NATS_SERVER_BIN` when set (and then only it), else `nats-server` on the PATH,
 * else one in /usr/local/sbin or /usr/sbin (Debian's package installs /usr/sbin/nats-server, not on a
 * normal user's PATH); as @relay/testing's natsServerCommand, which a script cannot import.
 */
const NATS_SERVER = (
  process.env.NATS_SERVER_BIN
    ? [process.env.NATS_SERVER_BIN]
    : ['nats-server', '/usr/local/sbin/nats-server', '/usr/sbin/nats-server']
).find((command) => !spawnSync(command, ['--version'], { stdio: 'ignore' }).error);

/** What must be there before anything starts: a failure here leaves no server behind. */
function requireNatsServer() {
  if (NATS_SERVER === undefined) {
    throw new Error(
      'nats-server is not installed; get it with `apt-get install nats-server` or `brew install nats-server` (or set NATS_SERVER_BIN), then run npm start again.',
    );
  }
}

/** The apps' ports are the contract's: one taken is a clear line before anything starts, not an app's crash at the end. */
async function requireAppPorts() {
  for (const app of APPS) {
    // the apps listen on every address unless LISTEN_ADDRESS says otherwise: a port taken on any is taken
    if (!(await isPortFree(app.port, '0.0.0.0')) || !(await isPortFree(app.port, NATS_HOST))) {
      throw new Error(
        `port ${app.port} (${app.name}) is taken: stop what listens there (e.g. an earlier npm start), then run npm start again.`,
      );
    }
  }
}

function build() {
  say('building auth, orders and inventory (npx nx run-many -t build -p auth orders inventory)');
  const result = spawnSync(
    'npx',
    ['nx', 'run-many', '-t', 'build', '-p', 'auth', 'orders', 'inventory', '--outputStyle=stream'],
    // no Nx daemon: Ctrl-C stops everything this command started, and a daemon would outlive it
    { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NX_TUI: 'false', NX_DAEMON: 'false' } },
  );
  if (result.signal !== null) {
    // Ctrl-C (or a kill) reached the build too, and the demo's own handler runs only once this returns:
    // it stops as for Ctrl-C, not as for a failed build
    void stopAll(result.signal === 'SIGINT' ? 130 : 143);
    throw new Error(`stopping: the build was stopped (${result.signal})`);
  }
  if (result.status !== 0) throw new Error('the build failed (see above); fix it and run npm start again.');
}

async function waitHealthy(app) {
  const url = `${app.url}/health`;
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = error instanceof Error ? (error.cause?.code ?? error.message) : String(error);
    }
    await sleep(300);
  }
  throw new Error(
    `${app.name} was not healthy at ${url} within ${HEALTH_TIMEOUT_MS / 1000} s (last: ${last})`,
  );
}

async function stopAll(code) {
  if (isStopping) return;
  isStopping = true;
  const isRunning = ({ child }) => child.exitCode === null && child.signalCode === null;
  const stop = ({ child }) =>
    new Promise((done) => {
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(killer);
        done();
      });
      child.kill('SIGTERM');
    });
  // Apps first, the bus last: the apps close their NATS connections cleanly on the way out.
  await Promise.all(children.filter((entry) => isRunning(entry) && entry.name !== 'nats').map(stop));
  await Promise.all([
    ...children.filter((entry) => isRunning(entry) && entry.name === 'nats').map(stop),
    database === undefined ? stopStartingDatabase?.() : database.stop(),
    journey?.close(),
  ]);
  process.exit(code);
}

/**
 * Starts the token's journey page before the apps, on JOURNEY_PORT (3100) or a free port: it is
 * where the apps export their spans, unless the caller set OTEL_EXPORTER_OTLP_ENDPOINT (then the
 * spans go there and the page shows no hops). Returns the tracing variables for the apps.
 */
async function startJourneyPage() {
  const port = (await isPortFree(JOURNEY_PORT)) ? JOURNEY_PORT : await freePort();
  journey = await startJourney({
    port,
    relayUrls: Object.fromEntries(APPS.map((app) => [app.name, app.url])),
  });
  if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT) return {};
  // spans batched for 200 ms instead of the SDK's 5 s: the page shows a hop right after the call
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: journey.otlpEndpoint,
    OTEL_BSP_SCHEDULE_DELAY: process.env.OTEL_BSP_SCHEDULE_DELAY ?? '200',
  };
}

function journeyNote() {
  return process.env.OTEL_EXPORTER_OTLP_ENDPOINT
    ? `${journey.url}   (no hops: the apps export to your OTEL_EXPORTER_OTLP_ENDPOINT)`
    : `${journey.url}   (the token's journey: log in, order, log out, hop by hop)`;
}

function printWalkthrough(bus) {
  const adminNote = process.env.AUTH_ADMIN_PASSWORD
    ? `admin: ${ADMIN_EMAIL} (password from AUTH_ADMIN_PASSWORD)`
    : `admin (demo default, override with AUTH_ADMIN_EMAIL/AUTH_ADMIN_PASSWORD): ${ADMIN_EMAIL} / ${ADMIN_PASSWORD}`;
  const json = `node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).access_token'`;
  console.log(`
Relay is up:
  auth       ${appUrl('auth')}   (issuer ${ISSUER}, JWKS ${ISSUER}/.well-known/jwks.json)
  orders     ${appUrl('orders')}
  inventory  ${appUrl('inventory')}   (demo skus: sku-apple, sku-pear, sku-plum)
  NATS       ${bus.url}   (closed bus: TLS + NKeys, see ${join(NATS_DIR, 'connection.json')})
  journey    ${journeyNote()}
  ${adminNote}

Try it (copy-paste into another shell):
  EMAIL="demo-$RANDOM@example.com"; PASSWORD='demo-password-1'
  curl -s -X POST ${appUrl('auth', '/auth/register')} -H 'content-type: application/json' -d "{\\"email\\":\\"$EMAIL\\",\\"password\\":\\"$PASSWORD\\"}"; echo
  TOKEN=$(curl -s -X POST ${appUrl('auth', '/auth/login')} -H 'content-type: application/json' -d "{\\"email\\":\\"$EMAIL\\",\\"password\\":\\"$PASSWORD\\"}" | ${json})
  curl -s ${appUrl('inventory', `/inventory/${DEMO_SKU}`)} -H "authorization: Bearer $TOKEN"; echo
  curl -s -X POST ${appUrl('orders', '/orders')} -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"items":[{"sku":"${DEMO_SKU}","quantity":2}]}'; echo
  curl -s ${appUrl('inventory', `/inventory/${DEMO_SKU}`)} -H "authorization: Bearer $TOKEN"; echo   # available dropped by 2

Ctrl-C stops everything this command started.`);
}

// A 503 is the contract's "retry later" (a service refuses tokens while it replays the revocation
// feed, which a loaded machine can interrupt); the walkthrough retries as a client should.
const RETRY_503_MS = 10_000;

async function call(method, url, body, token, extraHeaders = {}) {
  const headers = {
    'content-type': 'application/json',
    ...(token && { authorization: `Bearer ${token}` }),
    ...extraHeaders,
  };
  for (const deadline = Date.now() + RETRY_503_MS; ; await sleep(300)) {
    const response = await fetch(url, {
      method,
      headers,
      body: body && JSON.stringify(body),
    });
    const text = await response.text();
    const result = { status: response.status, body: text ? JSON.parse(text) : undefined };
    if (result.status !== 503 || Date.now() > deadline) return result;
    say(`..  ${method} ${new URL(url).pathname} -> 503 (${result.body?.message ?? 'unavailable'}); retrying`);
  }
}

function expectStatus(step, result, status) {
  if (result.status !== status) {
    throw new Error(`${step}: expected ${status}, got ${result.status} ${JSON.stringify(result.body)}`);
  }
  say(`ok  ${step} -> ${status}`);
}

/** Every check takes 2 of the seeded 100: as admin, put the demo sku back to 100 first, so the 51st run passes too. */
async function topUpDemoStock() {
  const admin = await call('POST', appUrl('auth', '/auth/login'), {
    email: ADMIN_EMAIL,
    password: ADMIN_PASSWORD,
  });
  expectStatus('POST /auth/login (admin)', admin, 200);
  expectStatus(
    `PUT /inventory/${DEMO_SKU}`,
    await call(
      'PUT',
      appUrl('inventory', `/inventory/${DEMO_SKU}`),
      { available: 100 },
      admin.body.access_token,
    ),
    200,
  );
}

async function runWalkthrough() {
  const credentials = {
    email: `demo-${randomUUID()}@example.com`,
    password: 'demo-password-1',
  };
  expectStatus('POST /auth/register', await call('POST', appUrl('auth', '/auth/register'), credentials), 201);
  const login = await call('POST', appUrl('auth', '/auth/login'), credentials);
  expectStatus('POST /auth/login', login, 200);
  const token = login.body.access_token;
  await topUpDemoStock();
  const before = await call('GET', appUrl('inventory', `/inventory/${DEMO_SKU}`), undefined, token);
  expectStatus(`GET /inventory/${DEMO_SKU}`, before, 200);
  const order = await call(
    'POST',
    appUrl('orders', '/orders'),
    { items: [{ sku: DEMO_SKU, quantity: 2 }] },
    token,
    { 'idempotency-key': randomUUID() }, // a retried POST reserves the stock once
  );
  expectStatus('POST /orders', order, 201);
  if (order.body.status !== 'confirmed')
    throw new Error(`order status is ${order.body.status}, expected confirmed`);
  const after = await call('GET', appUrl('inventory', `/inventory/${DEMO_SKU}`), undefined, token);
  expectStatus(`GET /inventory/${DEMO_SKU}`, after, 200);
  if (after.body.available !== before.body.available - 2) {
    throw new Error(
      `${DEMO_SKU} went from ${before.body.available} to ${after.body.available}, expected a drop of 2`,
    );
  }
  say(`ok  ${DEMO_SKU} available ${before.body.available} -> ${after.body.available}`);
}

async function main() {
  process.once('SIGINT', () => void stopAll(130));
  process.once('SIGTERM', () => void stopAll(143));
  // the terminal closed (or the SSH session dropped): PostgreSQL takes SIGHUP for a reload and would
  // stay, holding DATA_DIR against the next start. `on`, not `once`: a closing shell may send it twice
  // (stopAll runs once)
  process.on('SIGHUP', () => void stopAll(129));
  // a console that goes away (`npm start | head`, a closed terminal) ends the demo as Ctrl-C does:
  // left to Node, the write's EPIPE would kill it with PostgreSQL still running on DATA_DIR
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => void stopAll(1));
  process.on('uncaughtException', (error) => {
    process.exitCode = 1;
    process.stderr.write(`[demo] ${error instanceof Error ? error.message : String(error)}\n`);
    void stopAll(1);
  });
  // checked and built before the database and the bus start, so that neither is left running
  requireOwnAdminPasswordOffLoopback(process.env, {
    hasEarlierData:
      existsSync(join(DATA_DIR, 'postgres')) || APPS.some((app) => app.databaseUrl !== undefined),
  });
  requireNatsServer();
  await requireAppPorts();
  if (!SKIP_BUILD) build();
  const missing = APPS.map((app) => join('dist/apps', app.name, 'main.js')).filter(
    (file) => !existsSync(join(ROOT, file)),
  );
  if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}; run without --skip-build`);
  await startDatabase();
  const bus = await startBus();
  // The caller's AUTH_CLIENTS stay; the demo adds fresh clients for orders and inventory unless defined there.
  const clients = mergeAuthClients(process.env.AUTH_CLIENTS, demoServiceClients());
  // auth's signing keys are sealed at rest, with a key of this DATA_DIR (or the caller's)
  const keyEncryptionKey = demoKeyEncryptionKey(DATA_DIR, process.env.AUTH_KEY_ENCRYPTION_KEY);
  const tracingEnv = await startJourneyPage();
  for (const app of APPS) {
    const env = demoAppEnv(app.name, {
      callerEnv: process.env,
      port: app.port,
      dataDir: DATA_DIR,
      issuer: ISSUER,
      bus,
      databaseUrl: app.databaseUrl,
      admin: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
      clients,
      keyEncryptionKey,
    });
    startChild(app.name, process.execPath, [join('dist/apps', app.name, 'main.js')], {
      ...env,
      ...tracingEnv,
    });
  }
  await Promise.all(APPS.map(waitHealthy));
  if (!IS_CHECK) return printWalkthrough(bus);
  await runWalkthrough();
  say('check passed');
  await stopAll(0);
}

main().catch((error) => {
  if (isStopping) return;
  console.error(`[demo] ${error instanceof Error ? error.message : String(error)}`);
  void stopAll(1);
});
