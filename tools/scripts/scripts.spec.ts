import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { writeBusMaterial } from '@relay/nats-bus';

const ROOT = resolve(__dirname, '..', '..');
const SHELL_SCRIPTS = [
  '.ci/run',
  'tools/scripts/ensure-services.sh',
  'tools/scripts/other-node-versions.sh',
  'tools/scripts/tally-tests.sh',
];

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolvePort(port));
    });
  });
}

async function waitForTcp(port: number, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    const open = await new Promise<boolean>((done) => {
      const socket = createConnection(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        done(true);
      });
      socket.once('error', () => done(false));
    });
    if (open) return;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

function run(command: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(command, args, {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 10_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('shell scripts', () => {
  it.each(SHELL_SCRIPTS)('%s parses (bash -n)', (script) => {
    expect(run('bash', ['-n', script])).toEqual({ status: 0, output: '' });
  });

  it.each(SHELL_SCRIPTS)('%s stops on the first error (set -euo pipefail)', (script) => {
    expect(readFileSync(join(ROOT, script), 'utf8')).toMatch(/^set -euo pipefail$/m);
  });

  it.each([...SHELL_SCRIPTS, 'tools/scripts/demo.mjs', 'tools/scripts/demo-env.cjs'])(
    '%s names its caller on its header line',
    (script) => {
      const lines = readFileSync(join(ROOT, script), 'utf8').split('\n');
      const header = lines[0].startsWith('#!') ? lines[1] : lines[0];
      expect(header).toMatch(/^(#|\/\/) (Called by|CI entry point)/);
    },
  );

  it('.ci/run installs from the lockfile as is, then ensures services, then runs npm test', () => {
    const script = readFileSync(join(ROOT, '.ci/run'), 'utf8');
    const steps = ['npm ci', 'bash tools/scripts/ensure-services.sh', 'npm test'].map((step) =>
      script.search(new RegExp(`^${step}\\b`, 'm')),
    );
    expect(steps.every((index) => index >= 0)).toBe(true);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
    expect(script).not.toMatch(/--force|--legacy-peer-deps/);
  });

  it('tally-tests.sh names each failure once, then adds up every test count', () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-tally-'));
    // Jest's coloured status as Nx streams it: "project: " first, the word padded in inverse video
    const status = (word: string, colour: number) =>
      `\x1b[7m\x1b[1m\x1b[${colour}m ${word} \x1b[39m\x1b[22m\x1b[27m`;
    try {
      const log = join(dir, 'log');
      writeFileSync(
        log,
        [
          `auth-lib: ${status('PASS', 32)} \x1b[7m auth-lib \x1b[27m src/lib/guard.spec.ts`,
          `auth-lib: ${status('FAIL', 31)} \x1b[7m auth-lib \x1b[27m src/lib/feed.spec.ts (\x1b[1m12.3 s\x1b[22m)`,
          'auth-lib:   ● Console',
          'auth-lib:   ● RevocationFeed › is lost during its replay',
          'auth-lib: Summary of all failing tests',
          `auth-lib: ${status('FAIL', 31)} src/lib/feed.spec.ts (12.3 s)`,
          'auth-lib:   ● RevocationFeed › is lost during its replay',
          'auth-lib: \x1b[1mTests:\x1b[22m       \x1b[31m1 failed\x1b[39m, \x1b[32m39 passed\x1b[39m, 40 total',
          'node 22 libs/auth: FAIL auth-lib libs/auth/src/lib/feed.spec.ts',
          'node 22 libs/auth: Tests:       9 passed, 9 total',
          'node 22 tools node:test: ✖ refuses a store that is a link (15.2ms)',
          'node 22 tools node:test: ✖ failing tests:',
          'node 22 tools node:test: ✖ refuses a store that is a link (15.2ms)',
          'node 22 tools node:test: ℹ pass 7',
          'node 22 tools node:test: ℹ fail 1',
          'tools: not ok 2 - keeps the store',
          'tools: # pass 3',
          'tools: # fail 1',
        ].join('\n'),
      );

      expect(run('bash', ['tools/scripts/tally-tests.sh', log])).toEqual({
        status: 0,
        output: [
          'failed: auth-lib: FAIL auth-lib src/lib/feed.spec.ts',
          'failed: auth-lib: ● RevocationFeed › is lost during its replay',
          'failed: node 22 libs/auth: FAIL auth-lib libs/auth/src/lib/feed.spec.ts',
          'failed: node 22 tools node:test: ✖ refuses a store that is a link',
          'failed: tools: not ok 2 - keeps the store',
          'tests: 58 passed, 3 failed',
          '',
        ].join('\n'),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // a spec runs against the apps the suite starts once (a key rotation changes the issuer for every
  // later spec): on a machine of more than two cores Jest would run them side by side
  it('other-node-versions.sh runs the end-to-end suite in band, as its nx target does', () => {
    const target = JSON.parse(readFileSync(join(ROOT, 'apps/orders-e2e/project.json'), 'utf8')) as {
      targets: { e2e: { options: { runInBand?: boolean } } };
    };
    const script = readFileSync(join(ROOT, 'tools/scripts/other-node-versions.sh'), 'utf8');

    expect(target.targets.e2e.options.runInBand).toBe(true);
    expect(script).toMatch(/^jest_on "\$newest" apps\/orders-e2e\/jest\.config\.cts --runInBand\b/m);
  });

  // every suite on every version took CI past its half hour: the unit suites on all but the newest,
  // the end-to-end suite on the newest (the images' Node), node:test on each. `npx` here only records
  // what it was asked to run (each version's Node comes through it)
  it('other-node-versions.sh runs the unit suites on all but the newest version, the e2e suite on it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-node-versions-'));
    try {
      const calls = join(dir, 'calls');
      writeFileSync(
        join(dir, 'npx'),
        ['#!/usr/bin/env bash', `printf '%s\\n' "$*" >> '${calls}'`, 'echo v0', ''].join('\n'),
        { mode: 0o755 },
      );
      const result = spawnSync('bash', ['tools/scripts/other-node-versions.sh', '22', '24'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, PATH: `${dir}:${process.env['PATH']}` },
        timeout: 10_000,
      });
      expect(result.status).toBe(0);
      const asked = readFileSync(calls, 'utf8').trim().split('\n');
      const jestRuns = (version: number): string[] =>
        asked
          .filter((line) =>
            line.startsWith(`--yes --package node@${version} -- node --experimental-vm-modules`),
          )
          .map((line) => line.replace(/^.* --config (\S+).*$/, '$1'));
      const nodeTests = (version: number): boolean =>
        asked.some((line) => line.startsWith(`--yes --package node@${version} -- node --test `));

      expect(jestRuns(22)).toEqual(
        expect.arrayContaining(['libs/auth/jest.config.cts', 'apps/orders/jest.config.cts']),
      );
      expect(jestRuns(22)).not.toContain('apps/orders-e2e/jest.config.cts');
      expect(jestRuns(24)).toEqual(['apps/orders-e2e/jest.config.cts']);
      expect([nodeTests(22), nodeTests(24)]).toEqual([true, true]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ensure-services.sh refuses unknown arguments without touching any service', () => {
    const result = run('bash', ['tools/scripts/ensure-services.sh', '--nope']);
    expect(result.status).toBe(2);
    expect(result.output).toMatch(/unknown argument '--nope'/);
  });

  // the suites' own variables name the caller's services: checked, never started or changed
  it('ensure-services.sh checks the NATS RELAY_TEST_NATS_URL names, starting none there', async () => {
    const port = await freePort();
    const result = spawnSync('bash', ['tools/scripts/ensure-services.sh'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 10_000,
      env: { ...process.env, CI: '', RELAY_TEST_NATS_URL: `nats://127.0.0.1:${port}` },
    });

    expect(result.status).toBe(1);
    expect(`${result.stdout}${result.stderr}`).toBe(
      `ensure-services: RELAY_TEST_NATS_URL names 127.0.0.1:${port}, where nothing answers; start NATS with JetStream there, or unset it\n`,
    );
  });

  it('ensure-services.sh refuses a RELAY_TEST_POSTGRES_URL that does not log in, never printing it', () => {
    const url = 'postgres://nobody:a-password-of-theirs@127.0.0.1:1/postgres';
    const result = spawnSync('bash', ['tools/scripts/ensure-services.sh'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, CI: '', RELAY_TEST_NATS_URL: '', RELAY_TEST_POSTGRES_URL: url },
    });
    const output = `${result.stdout}${result.stderr}`;

    expect(result.status).toBe(1);
    expect(output).toMatch(/^ensure-services: RELAY_TEST_POSTGRES_URL does not log in/m);
    expect(output).not.toContain('a-password-of-theirs');
  });

  // the store defaults to the user's own cache: a shared path could be planted by another user
  it('ensure-services.sh refuses a nats-server store that is a link, before it starts anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-ensure-services-store-'));
    try {
      const store = join(dir, 'store');
      symlinkSync(tmpdir(), store);
      // a nats-server that must never run: the script refuses the store before it starts one
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      writeFileSync(join(bin, 'nats-server'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
      const result = spawnSync('bash', ['tools/scripts/ensure-services.sh'], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 10_000,
        env: {
          ...process.env,
          CI: '',
          RELAY_NATS_PORT: String(await freePort()),
          RELAY_PG_PORT: '1',
          RELAY_NATS_STORE: store,
          PATH: `${bin}:${process.env['PATH'] ?? ''}`,
        },
      });

      expect(result.status).toBe(1);
      expect(`${result.stdout}${result.stderr}`).toBe(
        `ensure-services: ${store} (nats-server's store) is not a directory of yours: remove it, or set RELAY_NATS_STORE\n`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('ensure-services.sh with a closed bus where the suites expect their NATS', () => {
    let busDir = '';
    let server: ChildProcess | undefined;
    let port = 0;

    beforeAll(async () => {
      busDir = mkdtempSync(join(tmpdir(), 'relay-ensure-services-bus-'));
      const material = await writeBusMaterial(busDir, { storeDir: join(busDir, 'store') });
      port = await freePort();
      server = spawn('nats-server', ['-c', material.configFile, '-a', '127.0.0.1', '-p', String(port)], {
        stdio: 'ignore',
      });
      await waitForTcp(port, 10_000);
    }, 20_000);

    afterAll(() => {
      server?.kill('SIGKILL');
      rmSync(busDir, { recursive: true, force: true });
    });

    it('refuses it in one line (the suites connect without TLS or credentials), touching nothing else', () => {
      const result = spawnSync('bash', ['tools/scripts/ensure-services.sh'], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 10_000,
        // a port where nothing listens for PostgreSQL: the script must stop before it
        env: { ...process.env, CI: '', RELAY_NATS_PORT: String(port), RELAY_PG_PORT: '1' },
      });

      expect(result.status).toBe(1);
      expect(`${result.stdout}${result.stderr}`).toBe(
        `ensure-services: the NATS on 127.0.0.1:${port} requires TLS or credentials (compose's or the demo's ` +
          `closed bus?); the test suites need an open one there: stop it and run: nats-server -js -a 127.0.0.1 -p ${port}\n`,
      );
    });
  });
});

describe('demo.mjs', () => {
  it('parses (node --check)', () => {
    expect(run(process.execPath, ['--check', 'tools/scripts/demo.mjs'])).toEqual({ status: 0, output: '' });
  });

  it('says in one line that nats-server is missing, having started nothing', () => {
    // a PATH holding node alone, and NATS_SERVER_BIN naming nothing, wherever nats-server is installed here
    const binDir = mkdtempSync(join(tmpdir(), 'relay-demo-bin-'));
    const dataDir = mkdtempSync(join(tmpdir(), 'relay-demo-data-'));
    try {
      symlinkSync(process.execPath, join(binDir, 'node'));
      const result = spawnSync(join(binDir, 'node'), ['tools/scripts/demo.mjs'], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 30_000,
        env: { PATH: binDir, DATA_DIR: dataDir, HOME: dataDir, NATS_SERVER_BIN: join(binDir, 'nats-server') },
      });

      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/^\[demo\] nats-server is not installed; get it with .*\n$/);
      // no PostgreSQL, bus or build was started, so nothing is left running
      expect(result.stdout).toBe('');
      expect(readdirSync(dataDir)).toEqual([]);
    } finally {
      rmSync(binDir, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('says in one line that an app port is taken, having started nothing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'relay-demo-data-'));
    // auth's port held here (or already taken by something else: the same answer)
    const holder = createServer();
    await new Promise<void>((resolve) => {
      holder.once('error', () => resolve());
      holder.listen(3000, '127.0.0.1', () => resolve());
    });
    try {
      const result = spawnSync(process.execPath, ['tools/scripts/demo.mjs', '--skip-build'], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 30_000,
        // any executable file stands for nats-server: the demo must stop before it runs it
        env: { PATH: process.env.PATH, DATA_DIR: dataDir, HOME: dataDir, NATS_SERVER_BIN: process.execPath },
      });

      expect(result.status).toBe(1);
      expect(result.stderr).toBe(
        '[demo] port 3000 (auth) is taken: stop what listens there (e.g. an earlier npm start), then run npm start again.\n',
      );
      expect(result.stdout).toBe('');
      expect(readdirSync(dataDir)).toEqual([]);
    } finally {
      holder.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('is what npm start runs', () => {
    const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(packageJson.scripts.start).toBe('node tools/scripts/demo.mjs');
  });
});

interface DemoEnvModule {
  DEMO_ADMIN_EMAIL: string;
  demoServiceClients(): Record<string, { secret: string; scope: string }>;
  authClientSecrets(value: string | undefined): Map<string, string>;
  mergeAuthClients(
    callerValue: string | undefined,
    demoClients: Record<string, { secret: string; scope: string }>,
  ): { authClients: string; secrets: Record<string, string> };
  demoAppEnv(
    app: string,
    options: {
      callerEnv: Record<string, string | undefined>;
      port: number;
      dataDir: string;
      issuer: string;
      bus: { url: string; seedFiles: Record<string, string> };
      databaseUrl?: string;
      admin: { email: string; password: string };
      clients: { authClients: string; secrets: Record<string, string> };
      keyEncryptionKey: string;
    },
  ): Record<string, string>;
  demoKeyEncryptionKey(dataDir: string, callerValue: string | undefined): string;
  writeWhole(file: string, text: string, mode?: number): void;
  requireOwnAdminPasswordOffLoopback(
    callerEnv: Record<string, string | undefined>,
    data: { hasEarlierData: boolean },
  ): void;
}

describe('demo-env.cjs (the environment demo.mjs gives each app)', () => {
  // plain CommonJS, required by demo.mjs as it is: test that very file
  const demoEnv = require('./demo-env.cjs') as DemoEnvModule;
  const DEMO = {
    orders: { secret: 'o'.repeat(32), scope: 'inventory:release' },
    inventory: { secret: 'i'.repeat(32), scope: 'orders:acknowledge' },
  };
  const BUS = {
    url: 'tls://127.0.0.1:4222',
    seedFiles: {
      auth: '/data/nats/auth/auth.nk',
      orders: '/data/nats/orders/orders.nk',
      inventory: '/data/nats/inventory/inventory.nk',
    },
  };
  const envOf = (app: string, callerEnv: Record<string, string | undefined> = {}): Record<string, string> =>
    demoEnv.demoAppEnv(app, {
      callerEnv,
      port: 3001,
      dataDir: '/data',
      issuer: 'http://localhost:3000',
      bus: BUS,
      admin: { email: 'admin@relay.demo', password: 'relay-demo-admin' },
      clients: demoEnv.mergeAuthClients(callerEnv.AUTH_CLIENTS, DEMO),
      keyEncryptionKey: 'k'.repeat(64),
    });

  it('writes a file whole (0600) or leaves the one there as it was', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'relay-demo-env-'));
    try {
      const file = join(dataDir, 'roles.json');
      demoEnv.writeWhole(file, '{"orders":"a"}\n');
      expect(readFileSync(file, 'utf8')).toBe('{"orders":"a"}\n');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      // the write fails (here: its scratch file cannot be made): the earlier content stays
      mkdirSync(`${file}.${process.pid}.tmp`);
      expect(() => demoEnv.writeWhole(file, '{"orders":"b"}\n')).toThrow(/EISDIR/);
      expect(readFileSync(file, 'utf8')).toBe('{"orders":"a"}\n');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('seals auth signing keys with a key kept per DATA_DIR (0600), or the caller own; only auth gets it', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'relay-demo-env-'));
    try {
      const first = demoEnv.demoKeyEncryptionKey(dataDir, undefined);
      const file = join(dataDir, 'auth-key-encryption.key');

      expect(first).toMatch(/^[0-9a-f]{64}$/);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(demoEnv.demoKeyEncryptionKey(dataDir, undefined)).toBe(first);
      expect(demoEnv.demoKeyEncryptionKey(dataDir, 'a'.repeat(64))).toBe('a'.repeat(64));
      expect(readdirSync(dataDir)).toEqual(['auth-key-encryption.key']);
      // emptied (a first write cut short by a full disk): refused, never taken as "no encryption"
      writeFileSync(file, '');
      expect(() => demoEnv.demoKeyEncryptionKey(dataDir, undefined)).toThrow(
        `${file} holds no key (64 hexadecimal characters)`,
      );
      expect(envOf('auth').AUTH_KEY_ENCRYPTION_KEY).toBe('k'.repeat(64));
      expect(
        envOf('orders', { AUTH_KEY_ENCRYPTION_KEY: 'c'.repeat(64) }).AUTH_KEY_ENCRYPTION_KEY,
      ).toBeUndefined();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  // a shell that served one app alone still names its audience: inventory would take orders' tokens
  it("gives each app its own audience and the demo's keys, whatever the caller's shell names", () => {
    const shell = { AUTH_AUDIENCE: 'orders', AUTH_JWKS_URI: 'http://elsewhere/jwks.json' };

    for (const app of ['orders', 'inventory']) {
      expect(envOf(app, shell).AUTH_AUDIENCE).toBeUndefined();
      expect(envOf(app, shell).AUTH_JWKS_URI).toBeUndefined();
    }
  });

  it("refuses apps open beyond this machine with the README's admin password", () => {
    const check = (env: Record<string, string | undefined>, hasEarlierData = true): string =>
      ((): string => {
        try {
          demoEnv.requireOwnAdminPasswordOffLoopback(env, { hasEarlierData });
          return 'ok';
        } catch (error) {
          return (error as Error).message;
        }
      })();
    const open = { LISTEN_ADDRESS: '0.0.0.0', AUTH_ADMIN_PASSWORD: 'mine, not the README one' };

    expect(check({})).toBe('ok');
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) {
      expect(check({ LISTEN_ADDRESS: address })).toBe('ok');
      expect(check({ LISTEN_ADDRESS: address, AUTH_ADMIN_EMAIL: 'ops@example.com' })).toBe('ok');
    }
    expect(check({ LISTEN_ADDRESS: '0.0.0.0' })).toMatch(
      /^LISTEN_ADDRESS=0\.0\.0\.0 opens .* set AUTH_ADMIN_PASSWORD/,
    );
    expect(check({ LISTEN_ADDRESS: '192.168.1.20' })).toMatch(/AUTH_ADMIN_PASSWORD/);
    expect(check(open)).toBe('ok');
    expect(check({ ...open, AUTH_ADMIN_EMAIL: demoEnv.DEMO_ADMIN_EMAIL })).toBe('ok');
    expect(check({ ...open, AUTH_ADMIN_EMAIL: 'Admin@Relay.Demo' })).toBe('ok');
    // the demo's admin an earlier run made keeps the README's password: auth sets the named admin's alone
    expect(check({ ...open, AUTH_ADMIN_EMAIL: 'ops@example.com' })).toMatch(
      /admin@relay\.demo, the admin an earlier run may have made, would keep the README's password/,
    );
    expect(check({ ...open, AUTH_ADMIN_EMAIL: 'ops@example.com' }, false)).toBe('ok');
  });

  it('generates fresh 32-character secrets for orders and inventory', () => {
    const first = demoEnv.demoServiceClients();
    const second = demoEnv.demoServiceClients();
    expect(Object.keys(first).sort()).toEqual(['inventory', 'orders']);
    expect(first.orders.secret).toHaveLength(32);
    expect(first.orders.secret).not.toBe(second.orders.secret);
    expect(first.orders.scope).toBe('inventory:release');
    expect(first.inventory.scope).toBe('orders:acknowledge');
  });

  it('uses its own clients when the caller sets no AUTH_CLIENTS', () => {
    expect(demoEnv.mergeAuthClients(undefined, DEMO)).toEqual({
      authClients: `orders:${DEMO.orders.secret}:inventory:release,inventory:${DEMO.inventory.secret}:orders:acknowledge`,
      secrets: { orders: DEMO.orders.secret, inventory: DEMO.inventory.secret },
    });
  });

  it("adds its clients to the caller's AUTH_CLIENTS, never replacing them", () => {
    const caller = ' reporting:r-secret-that-is-long-enough-000000:orders:read , ci:c-secret ';
    const merged = demoEnv.mergeAuthClients(caller, DEMO);
    expect(merged.authClients.split(',')).toEqual([
      'reporting:r-secret-that-is-long-enough-000000:orders:read',
      'ci:c-secret',
      `orders:${DEMO.orders.secret}:inventory:release`,
      `inventory:${DEMO.inventory.secret}:orders:acknowledge`,
    ]);
    expect(merged.secrets).toEqual({ orders: DEMO.orders.secret, inventory: DEMO.inventory.secret });
  });

  it("keeps the caller's own orders entry and runs orders with the caller's secret", () => {
    const callerOrders = 'orders:callers-orders-secret-of-32-characters:inventory:release orders:read';
    const merged = demoEnv.mergeAuthClients(callerOrders, DEMO);
    expect(merged.authClients.split(',')).toEqual([
      callerOrders,
      `inventory:${DEMO.inventory.secret}:orders:acknowledge`,
    ]);
    expect(merged.secrets).toEqual({
      orders: 'callers-orders-secret-of-32-characters',
      inventory: DEMO.inventory.secret,
    });
    const orders = envOf('orders', { AUTH_CLIENTS: callerOrders });
    expect([orders.AUTH_CLIENT_ID, orders.AUTH_CLIENT_SECRET]).toEqual([
      'orders',
      'callers-orders-secret-of-32-characters',
    ]);
    expect(envOf('auth', { AUTH_CLIENTS: callerOrders }).AUTH_CLIENTS).toBe(merged.authClients);
  });

  it.each(['auth', 'orders', 'inventory'])(
    'gives %s the closed bus with only its own seed file and CA',
    (app) => {
      const env = envOf(app, {
        NATS_URL: 'nats://127.0.0.1:4222',
        NATS_NKEY_SEED_FILE: '/elsewhere/other.nk',
        NATS_TLS_CA_FILE: '/elsewhere/ca.pem',
      });
      expect(env.NATS_URL).toBe(BUS.url);
      expect(env.NATS_NKEY_SEED_FILE).toBe(`/data/nats/${app}/${app}.nk`);
      expect(env.NATS_TLS_CA_FILE).toBe(`/data/nats/${app}/ca.pem`);
      const otherSeeds = Object.entries(BUS.seedFiles)
        .filter(([service]) => service !== app)
        .map(([, file]) => file);
      const mentions = Object.values(env).filter((value) => otherSeeds.some((file) => value.includes(file)));
      expect(mentions).toEqual([]);
    },
  );

  it('passes LOG_FORMAT and LOG_LEVEL through, drops a shared DATABASE_URL, keeps secrets to auth', () => {
    const caller = {
      LOG_FORMAT: 'pretty',
      LOG_LEVEL: 'debug',
      DATABASE_URL: 'postgres://shared',
      AUTH_CLIENTS: 'ci:c-secret',
      AUTH_CLIENT_ID: 'ci',
      AUTH_CLIENT_SECRET: 'c-secret',
      AUTH_ADMIN_PASSWORD: 'from-the-shell',
    };
    for (const app of ['auth', 'orders', 'inventory']) {
      expect(envOf(app, caller)).toMatchObject({ LOG_FORMAT: 'pretty', LOG_LEVEL: 'debug' });
      expect(envOf(app, caller).DATABASE_URL).toBeUndefined();
    }
    // each app's own URL reaches that app only, as DATABASE_URL (demo.mjs passes it as databaseUrl)
    const urls = {
      AUTH_DATABASE_URL: 'postgres://auth:a-pass@db/auth',
      ORDERS_DATABASE_URL: 'postgres://orders:o-pass@db/orders',
      INVENTORY_DATABASE_URL: 'postgres://inventory:i-pass@db/inventory',
    };
    for (const app of ['auth', 'orders', 'inventory']) {
      const values = Object.values(envOf(app, { ...caller, ...urls })).join('\n');
      expect(values).not.toMatch(/-pass@/);
    }
    expect(envOf('auth', caller).AUTH_CLIENT_ID).toBeUndefined();
    expect(envOf('auth', caller).AUTH_CLIENTS).toMatch(/^ci:c-secret,orders:/);
    expect(envOf('inventory', caller).AUTH_CLIENTS).toBeUndefined();
    expect(envOf('inventory', caller).AUTH_ADMIN_PASSWORD).toBeUndefined();
    expect(envOf('inventory', caller).AUTH_CLIENT_ID).toBe('inventory');
    expect(envOf('auth', {}).LOG_FORMAT).toBe('pretty');
    expect(envOf('auth', { LOG_FORMAT: 'json' }).LOG_FORMAT).toBe('json');
  });

  it("listens on 127.0.0.1 (the demo admin's password is public), unless the caller sets LISTEN_ADDRESS", () => {
    for (const app of ['auth', 'orders', 'inventory']) {
      expect(envOf(app, {}).LISTEN_ADDRESS).toBe('127.0.0.1');
    }
    expect(envOf('auth', { LISTEN_ADDRESS: '0.0.0.0' }).LISTEN_ADDRESS).toBe('0.0.0.0');
  });
});
