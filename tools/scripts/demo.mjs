// Called by `npm start`: builds and runs auth, orders and inventory locally on NATS; `--check` runs the walkthrough and exits 0/1.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ARGS = new Set(process.argv.slice(2));
const IS_CHECK = ARGS.has('--check');
const SKIP_BUILD = ARGS.has('--skip-build');
const HEALTH_TIMEOUT_MS = Number(process.env.DEMO_HEALTH_TIMEOUT_MS ?? 60_000);
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const ISSUER = process.env.AUTH_ISSUER ?? 'http://localhost:3000';
const DEMO_SKU = 'sku-apple';
const ADMIN_EMAIL = process.env.AUTH_ADMIN_EMAIL ?? 'admin@relay.demo';
const ADMIN_PASSWORD = process.env.AUTH_ADMIN_PASSWORD ?? 'relay-demo-admin';
const APPS = [
  { name: 'auth', port: 3000, databaseUrl: process.env.AUTH_DATABASE_URL },
  { name: 'orders', port: 3001, databaseUrl: process.env.ORDERS_DATABASE_URL },
  {
    name: 'inventory',
    port: 3002,
    databaseUrl: process.env.INVENTORY_DATABASE_URL,
  },
];

const children = [];
let natsStoreDir;
let isStopping = false;

const say = (line) => process.stdout.write(`[demo] ${line}\n`);

function tcpAnswers(host, port, timeoutMs = 1000) {
  return new Promise((done) => {
    const socket = connect({ host, port });
    const finish = (answered) => {
      socket.destroy();
      done(answered);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

function natsAddress() {
  const first = NATS_URL.split(',')[0].trim();
  const url = new URL(first.includes('://') ? first : `nats://${first}`);
  return { host: url.hostname, port: Number(url.port || 4222) };
}

function pipeWithPrefix(stream, prefix, out) {
  createInterface({ input: stream }).on('line', (line) => out.write(`${prefix} ${line}\n`));
}

function startChild(name, command, args, env) {
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

async function ensureNats() {
  const { host, port } = natsAddress();
  if (await tcpAnswers(host, port)) return say(`using NATS at ${NATS_URL}`);
  const isLocal = ['127.0.0.1', 'localhost', '::1'].includes(host);
  const hasServer = !spawnSync('nats-server', ['--version'], {
    stdio: 'ignore',
  }).error;
  if (!isLocal || !hasServer) {
    console.error(
      `[demo] no NATS answers at ${NATS_URL}; get one with \`apt-get install nats-server\`, \`brew install nats-server\` or \`docker compose up -d nats\`, then run npm start again.`,
    );
    process.exit(1);
  }
  natsStoreDir = mkdtempSync(join(tmpdir(), 'relay-demo-nats-'));
  say(`starting nats-server -js on ${host}:${port} (store ${natsStoreDir})`);
  startChild(
    'nats',
    'nats-server',
    ['-js', '-a', host, '-p', String(port), '-sd', natsStoreDir],
    process.env,
  );
  for (let waited = 0; !(await tcpAnswers(host, port)); waited += 200) {
    if (waited > 10_000) throw new Error(`nats-server did not answer on ${host}:${port} within 10 s`);
    await sleep(200);
  }
}

function build() {
  say('building auth, orders and inventory (npx nx run-many -t build -p auth orders inventory)');
  const result = spawnSync(
    'npx',
    ['nx', 'run-many', '-t', 'build', '-p', 'auth', 'orders', 'inventory', '--outputStyle=stream'],
    { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NX_TUI: 'false' } },
  );
  if (result.status !== 0) {
    console.error('[demo] the build failed (see above); fix it and run npm start again.');
    process.exit(1);
  }
}

// Orders releases the stock of crashed orders with its own token, inventory acknowledges
// reservations with its own; fresh secrets every run, never written anywhere.
const SERVICE_CLIENTS = {
  orders: { secret: randomBytes(24).toString('base64url'), scope: 'inventory:release' },
  inventory: { secret: randomBytes(24).toString('base64url'), scope: 'orders:acknowledge' },
};

function appEnv(app) {
  const env = {
    ...process.env,
    PORT: String(app.port),
    NATS_URL,
    DATA_DIR: process.env.DATA_DIR ?? '.data',
    AUTH_ISSUER: ISSUER,
  };
  // A DATABASE_URL in the caller's shell would make all three apps share one database.
  delete env.DATABASE_URL;
  if (app.databaseUrl) env.DATABASE_URL = app.databaseUrl;
  if (app.name === 'auth')
    Object.assign(env, {
      AUTH_ADMIN_EMAIL: ADMIN_EMAIL,
      AUTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
      AUTH_CLIENTS: Object.entries(SERVICE_CLIENTS)
        .map(([id, client]) => `${id}:${client.secret}:${client.scope}`)
        .join(','),
    });
  const client = SERVICE_CLIENTS[app.name];
  if (client) Object.assign(env, { AUTH_CLIENT_ID: app.name, AUTH_CLIENT_SECRET: client.secret });
  return env;
}

async function waitHealthy(app) {
  const url = `http://localhost:${app.port}/health`;
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
  await Promise.all(children.filter((entry) => isRunning(entry) && entry.name === 'nats').map(stop));
  if (natsStoreDir) rmSync(natsStoreDir, { recursive: true, force: true });
  process.exit(code);
}

function printWalkthrough() {
  const adminNote = process.env.AUTH_ADMIN_PASSWORD
    ? `admin: ${ADMIN_EMAIL} (password from AUTH_ADMIN_PASSWORD)`
    : `admin (demo default, override with AUTH_ADMIN_EMAIL/AUTH_ADMIN_PASSWORD): ${ADMIN_EMAIL} / ${ADMIN_PASSWORD}`;
  const json = `node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).access_token'`;
  console.log(`
Relay is up:
  auth       http://localhost:3000   (issuer ${ISSUER}, JWKS ${ISSUER}/.well-known/jwks.json)
  orders     http://localhost:3001
  inventory  http://localhost:3002   (demo skus: sku-apple, sku-pear, sku-plum)
  NATS       ${NATS_URL}
  ${adminNote}

Try it (copy-paste into another shell):
  EMAIL="demo-$RANDOM@example.com"; PASSWORD='demo-password-1'
  curl -s -X POST localhost:3000/auth/register -H 'content-type: application/json' -d "{\\"email\\":\\"$EMAIL\\",\\"password\\":\\"$PASSWORD\\"}"; echo
  TOKEN=$(curl -s -X POST localhost:3000/auth/login -H 'content-type: application/json' -d "{\\"email\\":\\"$EMAIL\\",\\"password\\":\\"$PASSWORD\\"}" | ${json})
  curl -s localhost:3002/inventory/${DEMO_SKU} -H "authorization: Bearer $TOKEN"; echo
  curl -s -X POST localhost:3001/orders -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"items":[{"sku":"${DEMO_SKU}","quantity":2}]}'; echo
  curl -s localhost:3002/inventory/${DEMO_SKU} -H "authorization: Bearer $TOKEN"; echo   # available dropped by 2

Ctrl-C stops everything this command started.`);
}

async function call(method, url, body, token) {
  const headers = {
    'content-type': 'application/json',
    ...(token && { authorization: `Bearer ${token}` }),
  };
  const response = await fetch(url, {
    method,
    headers,
    body: body && JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

function expectStatus(step, result, status) {
  if (result.status !== status) {
    throw new Error(`${step}: expected ${status}, got ${result.status} ${JSON.stringify(result.body)}`);
  }
  say(`ok  ${step} -> ${status}`);
}

async function runWalkthrough() {
  const credentials = {
    email: `demo-${randomUUID()}@example.com`,
    password: 'demo-password-1',
  };
  expectStatus(
    'POST /auth/register',
    await call('POST', 'http://localhost:3000/auth/register', credentials),
    201,
  );
  const login = await call('POST', 'http://localhost:3000/auth/login', credentials);
  expectStatus('POST /auth/login', login, 200);
  const token = login.body.access_token;
  const before = await call('GET', `http://localhost:3002/inventory/${DEMO_SKU}`, undefined, token);
  expectStatus(`GET /inventory/${DEMO_SKU}`, before, 200);
  const order = await call(
    'POST',
    'http://localhost:3001/orders',
    { items: [{ sku: DEMO_SKU, quantity: 2 }] },
    token,
  );
  expectStatus('POST /orders', order, 201);
  if (order.body.status !== 'confirmed')
    throw new Error(`order status is ${order.body.status}, expected confirmed`);
  const after = await call('GET', `http://localhost:3002/inventory/${DEMO_SKU}`, undefined, token);
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
  await ensureNats();
  if (!SKIP_BUILD) build();
  const missing = APPS.map((app) => join('dist/apps', app.name, 'main.js')).filter(
    (file) => !existsSync(join(ROOT, file)),
  );
  if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}; run without --skip-build`);
  for (const app of APPS) {
    startChild(app.name, process.execPath, [join('dist/apps', app.name, 'main.js')], appEnv(app));
  }
  await Promise.all(APPS.map(waitHealthy));
  if (!IS_CHECK) return printWalkthrough();
  await runWalkthrough();
  say('check passed');
  await stopAll(0);
}

main().catch((error) => {
  console.error(`[demo] ${error instanceof Error ? error.message : String(error)}`);
  void stopAll(1);
});
