import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { getFreePort } from '@relay/testing';

import { type BenchChild, spawnProcess } from '../core/child';
import type { BenchOptions } from '../core/options';
import { sleep } from '../core/stats';
import { profileDir } from '../targets/profile-target';
import { APP_NAMES, type AppName, type StackDatabases } from './databases';

const HEALTH_TIMEOUT_MS = 60_000;
export const ADMIN = { email: 'bench-admin@relay.test', password: 'bench-admin-password' };

/** One running app of the stack. */
export interface StackApp {
  name: AppName;
  url: string;
  child: BenchChild<undefined>;
  /** With `--profile`: the `--cpu-prof` file the app writes as it exits (its whole life). */
  profilePath?: string;
}

/** auth, orders and inventory, started from `dist/` on the bench's NATS. */
export interface RelayStack {
  apps: Record<AppName, StackApp>;
  stop(): Promise<void>;
}

/** Builds the apps (Nx cache makes a repeat cheap); resolves why it could not, or undefined. */
export function ensureBuilt(options: BenchOptions): string | undefined {
  const missing = APP_NAMES.filter(
    (app) => !existsSync(join(options.workspaceRoot, 'dist', 'apps', app, 'main.js')),
  );
  // the smoke run reuses a build when there is one, to stay within seconds
  const isBuildWanted = !options.skipBuild && (options.mode === 'full' || missing.length > 0);
  if (isBuildWanted) {
    process.stdout.write('    building auth, orders, inventory (npx nx run-many -t build)\n');
    const build = spawnSync(
      'npx',
      ['nx', 'run-many', '-t', 'build', '-p', ...APP_NAMES, '--outputStyle=static'],
      {
        cwd: options.workspaceRoot,
        env: { ...process.env, NX_TUI: 'false' },
        encoding: 'utf8',
      },
    );
    if (build.status !== 0) {
      return `the apps do not build (${lastLines(`${build.stdout}\n${build.stderr}`, 3)})`;
    }
    return undefined;
  }
  return missing.length === 0
    ? undefined
    : `dist/apps/{${missing.join(',')}}/main.js missing (run without --skip-build)`;
}

/** Starts auth (with a bootstrapped admin), orders and inventory, each waiting for `/health` 200. */
export async function startRelayStack(
  options: BenchOptions,
  natsUrl: string,
  databases: StackDatabases,
): Promise<RelayStack> {
  // orders and inventory fetch the JWKS on their first token, so all three can start at once
  return startStackApps(options, natsUrl, databases, APP_NAMES);
}

/** Starts the named apps of the stack (auth with a bootstrapped admin), each waiting for `/health` 200. */
export async function startStackApps<Name extends AppName>(
  options: BenchOptions,
  natsUrl: string,
  databases: StackDatabases,
  names: readonly Name[],
): Promise<{ apps: Record<Name, StackApp>; stop(): Promise<void> }> {
  const ports = { auth: await getFreePort(), orders: await getFreePort(), inventory: await getFreePort() };
  const issuer = `http://127.0.0.1:${ports.auth}`;
  const started: StackApp[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((app) => app.child.stop()));
  };
  const start = async (name: AppName): Promise<StackApp> => {
    const env: Record<string, string | undefined> = {
      ...process.env,
      PORT: String(ports[name]),
      NATS_URL: natsUrl,
      DATA_DIR: databases.dataDir,
      AUTH_ISSUER: issuer,
      // as deployed: JSON logs at info, an access line per request and message
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      // every bench client registers from 127.0.0.1
      AUTH_REGISTRATIONS_PER_ADDRESS: '1000000',
    };
    for (const inherited of [
      'DATABASE_URL',
      'AUTH_JWKS_URI',
      'AUTH_AUDIENCE',
      'AUTH_CLIENTS',
      'PROPAGATION_MODE',
    ]) {
      delete env[inherited];
    }
    if (databases.urls[name] !== undefined) env['DATABASE_URL'] = databases.urls[name];
    if (name === 'auth') {
      Object.assign(env, { AUTH_ADMIN_EMAIL: ADMIN.email, AUTH_ADMIN_PASSWORD: ADMIN.password });
    }
    // with --profile, V8's profiler runs for the app's whole life (start-up included) and writes as it exits
    const profileName = `${name}-${ports[name]}.cpuprofile`;
    const profilesAt = options.profile ? profileDir(options.workspaceRoot) : undefined;
    const profileArgs =
      profilesAt === undefined
        ? []
        : ['--cpu-prof', `--cpu-prof-dir=${profilesAt}`, `--cpu-prof-name=${profileName}`];
    const profilePath = profilesAt === undefined ? undefined : join(profilesAt, profileName);
    const child = spawnProcess(
      name,
      process.execPath,
      [...profileArgs, join(options.workspaceRoot, 'dist', 'apps', name, 'main.js')],
      env,
    );
    const app = { name, url: `http://127.0.0.1:${ports[name]}`, child, profilePath };
    started.push(app);
    await waitHealthy(app);
    return app;
  };
  try {
    const apps = await Promise.all(names.map(start));
    return {
      apps: Object.fromEntries(names.map((name, index) => [name, apps[index]])) as Record<Name, StackApp>,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitHealthy(app: StackApp): Promise<void> {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (app.child.process.exitCode !== null) {
      throw new Error(
        `${app.name} exited with ${app.child.process.exitCode}: ${lastLines(app.child.output.join('\n'), 3)}`,
      );
    }
    try {
      const response = await fetch(`${app.url}/health`, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await sleep(200);
  }
  throw new Error(
    `${app.name} not healthy within ${HEALTH_TIMEOUT_MS / 1000} s (last: ${last}; ${lastLines(app.child.output.join('\n'), 3)})`,
  );
}

function lastLines(text: string, count: number): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .slice(-count)
    .join(' / ');
}

/** The skus every bench stack sells, round-robin. */
export const SKUS = Array.from({ length: 10 }, (_, index) => `bench-sku-${index}`);
// the largest stock level inventory accepts (MAX_STOCK_LEVEL): 10 skus × 1e6 outlast any run
export const STOCK_PER_SKU = 1_000_000;

async function call(
  method: string,
  url: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

async function login(stack: RelayStack, credentials: { email: string; password: string }): Promise<string> {
  const answer = await call('POST', `${stack.apps.auth.url}/auth/login`, credentials);
  const token = (answer.body as { access_token?: unknown } | undefined)?.access_token;
  if (answer.status !== 200 || typeof token !== 'string') throw new Error(`login answered ${answer.status}`);
  return token;
}

/** Stocks the bench skus (as the bootstrapped admin) and returns a fresh customer's token. */
export async function prepare(stack: RelayStack): Promise<string> {
  const admin = await login(stack, ADMIN);
  for (const sku of SKUS) {
    const answer = await call(
      'PUT',
      `${stack.apps.inventory.url}/inventory/${sku}`,
      { available: STOCK_PER_SKU },
      admin,
    );
    if (answer.status !== 200) throw new Error(`PUT /inventory/${sku} answered ${answer.status}`);
  }
  const customer = { email: `bench-${randomUUID()}@relay.test`, password: 'bench-customer-password' };
  const registered = await call('POST', `${stack.apps.auth.url}/auth/register`, customer);
  if (registered.status !== 201) throw new Error(`register answered ${registered.status}`);
  return login(stack, customer);
}
