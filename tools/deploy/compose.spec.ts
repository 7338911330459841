import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { parse } from 'yaml';

const ROOT = resolve(__dirname, '..', '..');
const APPS = { auth: 3000, orders: 3001, inventory: 3002 } as const;
type AppName = keyof typeof APPS;
const APP_NAMES = Object.keys(APPS) as AppName[];

// CONTRACT.md "Configuration": the only environment variables the apps read.
const CONTRACT_ENV = new Set([
  'PORT',
  'NATS_URL',
  'DATABASE_URL',
  'DATA_DIR',
  'AUTH_ISSUER',
  'AUTH_JWKS_URI',
  'AUTH_AUDIENCE',
  'ACCESS_TOKEN_TTL',
  'REFRESH_TOKEN_TTL',
  'AUTH_ADMIN_EMAIL',
  'AUTH_ADMIN_PASSWORD',
  'AUTH_CLIENTS',
  'AUTH_CLIENT_ID',
  'AUTH_CLIENT_SECRET',
  'PROPAGATION_MODE',
  'ORDERS_RPC_TIMEOUT_MS',
  'LOG_LEVEL',
]);

interface Healthcheck {
  test: string | string[];
}
interface Service {
  image?: string;
  command?: string | string[];
  build?: { context: string; args?: Record<string, string> };
  ports?: string[];
  environment?: Record<string, string | number>;
  healthcheck?: Healthcheck;
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
}
interface Compose {
  services: Record<string, Service>;
}

/** Resolves compose interpolation the way `docker compose` does with an empty shell environment. */
function interpolate(value: string | number): string {
  return String(value).replace(
    /\$\{(\w+)(?::?[-?]([^}]*))?\}/g,
    (_match, _name, fallback?: string) => fallback ?? '',
  );
}

function publishedPorts(service: Service): number[] {
  return (service.ports ?? []).map((mapping) => Number(mapping.split(':').at(-2)));
}

function healthcheckText(service: Service): string {
  const test = service.healthcheck?.test ?? [];
  return Array.isArray(test) ? test.join(' ') : test;
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as Compose;
const service = (name: string): Service => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
};
const env = (name: AppName): Record<string, string> =>
  Object.fromEntries(
    Object.entries(service(name).environment ?? {}).map(([key, value]) => [key, interpolate(value)]),
  );

describe('docker-compose.yml', () => {
  it('defines nats, postgres, auth, orders and inventory', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['auth', 'inventory', 'nats', 'orders', 'postgres']);
  });

  it('publishes 4222 for NATS and 3000/3001/3002 for the apps', () => {
    expect(publishedPorts(service('nats'))).toContain(4222);
    for (const name of APP_NAMES) {
      expect(publishedPorts(service(name))).toEqual([APPS[name]]);
    }
  });

  it('runs NATS with JetStream and checks /healthz on the monitoring port', () => {
    const nats = service('nats');
    const command = Array.isArray(nats.command) ? nats.command : (nats.command ?? '').split(/\s+/);
    expect(command).toContain('-js');
    expect(healthcheckText(nats)).toMatch(/:8222\/healthz/);
  });

  it('creates one database per app in the postgres init script', () => {
    const mount = (service('postgres').volumes ?? []).find((volume) =>
      volume.includes('docker-entrypoint-initdb.d'),
    );
    expect(mount).toMatch(/^\.\/tools\/docker\/postgres-init:/);
    const sql = readFileSync(join(ROOT, 'tools/docker/postgres-init/01-create-databases.sql'), 'utf8');
    for (const name of APP_NAMES) {
      expect(sql).toMatch(new RegExp(`CREATE DATABASE ${name};`));
    }
  });

  it.each(APP_NAMES)('builds %s from the Dockerfile with APP set to its name', (name) => {
    expect(service(name).build).toEqual({
      context: '.',
      args: { APP: name },
    });
  });

  it.each(APP_NAMES)('gives %s only environment variables the contract lists', (name) => {
    const unknown = Object.keys(env(name)).filter((key) => !CONTRACT_ENV.has(key));
    expect(unknown).toEqual([]);
  });

  it.each(APP_NAMES)('points %s at its own port, its own database and the shared bus', (name) => {
    const variables = env(name);
    expect(Number(variables.PORT)).toBe(APPS[name]);
    expect(variables.NATS_URL).toBe('nats://nats:4222');
    const database = new URL(variables.DATABASE_URL);
    expect(database.hostname).toBe('postgres');
    expect(database.pathname).toBe(`/${name}`);
  });

  it('gives every app the same AUTH_ISSUER and the verifiers the JWKS of the auth service', () => {
    const issuers = new Set(APP_NAMES.map((name) => env(name).AUTH_ISSUER));
    expect([...issuers]).toEqual(['http://auth:3000']);
    for (const name of ['orders', 'inventory'] as const) {
      expect(env(name).AUTH_JWKS_URI).toBe('http://auth:3000/.well-known/jwks.json');
      expect(env(name).AUTH_AUDIENCE).toBe(name);
    }
    expect(env('orders').ORDERS_RPC_TIMEOUT_MS).toBe('3000');
  });

  it('bootstraps an admin on auth only', () => {
    expect(env('auth').AUTH_ADMIN_EMAIL).toBeTruthy();
    expect(env('auth').AUTH_ADMIN_PASSWORD).toBeTruthy();
    expect(env('orders').AUTH_ADMIN_PASSWORD).toBeUndefined();
    expect(env('inventory').AUTH_ADMIN_PASSWORD).toBeUndefined();
  });

  it.each(['nats', 'postgres', ...APP_NAMES])('has a healthcheck for %s', (name) => {
    expect(healthcheckText(service(name))).not.toBe('');
  });

  it.each(APP_NAMES)('probes GET /health on the port of %s', (name) => {
    expect(healthcheckText(service(name))).toMatch(/\/health\b/);
    expect(healthcheckText(service(name))).toMatch(/process\.env\.PORT/);
  });

  it.each(APP_NAMES)('starts %s only once its dependencies are healthy', (name) => {
    const dependsOn = service(name).depends_on ?? {};
    const required = name === 'auth' ? ['nats', 'postgres'] : ['nats', 'postgres', 'auth'];
    for (const dependency of required) {
      expect(dependsOn[dependency]).toEqual({ condition: 'service_healthy' });
    }
    expect(Object.values(dependsOn).every((entry) => entry.condition === 'service_healthy')).toBe(true);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1) ?? '';

  it('builds the app named by ARG APP and refuses any other name', () => {
    expect(dockerfile).toMatch(/^ARG APP$/m);
    expect(dockerfile).toMatch(/npx nx build "\$\{APP\}"/);
    expect(dockerfile).toMatch(/auth\|orders\|inventory\)/);
  });

  it('installs production dependencies from the lockfile generated for the app', () => {
    expect(runtime).toMatch(/^\$\{NODE_IMAGE\} AS runtime/);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-slim$/m);
    expect(runtime).toMatch(/dist\/apps\/\$\{APP\}\/package-lock\.json/);
    expect(runtime).toMatch(/npm ci --omit=dev/);
  });

  it('runs as a non-root user', () => {
    const users = [...runtime.matchAll(/^USER (\S+)/gm)].map((match) => match[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0']).not.toContain(users.at(-1));
  });

  it('starts main.js and checks GET /health', () => {
    expect(runtime).toMatch(/^CMD \["node", "main\.js"\]$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*fetch\('http:\/\/127\.0\.0\.1:' \+ port \+ '\/health'\)/m);
  });

  it('keeps dependencies and build output out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.nx', '.data', '.git']));
  });
});
