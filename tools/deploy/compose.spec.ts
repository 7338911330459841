import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';

import { publicKeyOfSeed } from '@relay/nats-bus';
import { parse } from 'yaml';

const ROOT = resolve(__dirname, '..', '..');
const APPS = { auth: 3000, orders: 3001, inventory: 3002 } as const;
type AppName = keyof typeof APPS;
const APP_NAMES = Object.keys(APPS) as AppName[];

// The contract's variables, plus auth's AUTH_KEY_ENCRYPTION_KEY (apps/auth/README.md): all compose may set.
const CONTRACT_ENV = new Set([
  'AUTH_KEY_ENCRYPTION_KEY',
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
  'NATS_TLS_CA_FILE',
  'NATS_NKEY_SEED_FILE',
  'LOG_FORMAT',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
]);
const BUS_VOLUMES = ['nats-bus-server', 'nats-bus-auth', 'nats-bus-orders', 'nats-bus-inventory'];

interface Healthcheck {
  test: string | string[];
}
interface Service {
  image?: string;
  command?: string | string[];
  build?: { context: string; target?: string; args?: Record<string, string> };
  ports?: string[];
  environment?: Record<string, string | number>;
  healthcheck?: Healthcheck;
  depends_on?: Record<string, { condition: string; restart?: boolean }>;
  volumes?: string[];
  restart?: string;
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}
interface Mount {
  source: string;
  target: string;
  isReadOnly: boolean;
}

/** Variables compose requires from the shell or .env (`${NAME:?message}`): secrets have no default. */
const REQUIRED_SECRETS = [
  'AUTH_ADMIN_PASSWORD',
  'ORDERS_CLIENT_SECRET',
  'INVENTORY_CLIENT_SECRET',
  'POSTGRES_PASSWORD',
  'AUTH_DB_PASSWORD',
  'ORDERS_DB_PASSWORD',
  'INVENTORY_DB_PASSWORD',
  'AUTH_KEY_ENCRYPTION_KEY',
];

/** The password of app `name`'s own PostgreSQL role. */
const databasePasswordOf = (name: AppName): string => `${name.toUpperCase()}_DB_PASSWORD`;

/**
 * Resolves compose interpolation the way `docker compose` does with an empty shell environment, plus
 * a value for each required secret (`${NAME:?…}` stops compose when the shell does not set it).
 */
function interpolate(value: string | number): string {
  return String(value).replace(
    /\$\{(\w+)(?::?([-?])([^}]*))?\}/g,
    (_match, name: string, kind?: string, fallback?: string) =>
      kind === '?' ? `<${name}>` : (fallback ?? ''),
  );
}

function publishedPorts(service: Service): number[] {
  return (service.ports ?? []).map((mapping) => Number(mapping.split(':').at(-2)));
}

function healthcheckText(service: Service): string {
  const test = service.healthcheck?.test ?? [];
  return Array.isArray(test) ? test.join(' ') : test;
}

function commandOf(service: Service): string[] {
  return Array.isArray(service.command) ? service.command : (service.command ?? '').split(/\s+/);
}

/** `source:target[:ro]` volume entries (named volumes and bind mounts). */
function mountsOf(service: Service): Mount[] {
  return (service.volumes ?? []).map((entry) => {
    const [source, target, mode] = entry.split(':');
    return { source, target, isReadOnly: mode === 'ro' };
  });
}

function busMountsOf(service: Service): Mount[] {
  return mountsOf(service).filter((mount) => BUS_VOLUMES.includes(mount.source));
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
  it('defines nats-init, nats, postgres, auth, orders and inventory, and Jaeger behind the tracing profile', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'auth',
      'inventory',
      'jaeger',
      'nats',
      'nats-init',
      'orders',
      'postgres',
    ]);
    expect((compose.services['jaeger'] as { profiles?: string[] }).profiles).toEqual(['tracing']);
    for (const name of APP_NAMES) expect(env(name).OTEL_EXPORTER_OTLP_ENDPOINT).toBe('');
  });

  it('publishes 4222 for NATS (not its monitoring port; NATS_HOST_PORT moves it on the host) and 3000/3001/3002 for the apps', () => {
    expect(service('nats').ports).toEqual(['127.0.0.1:${NATS_HOST_PORT:-4222}:4222']);
    for (const name of APP_NAMES) {
      expect(publishedPorts(service(name))).toEqual([APPS[name]]);
    }
  });

  it('runs NATS with the generated config and checks /healthz with JetStream inside the container', () => {
    const nats = service('nats');
    expect(commandOf(nats)).toEqual(['-c', '/bus/server/nats-server.conf']);
    expect(healthcheckText(nats)).toMatch(/http:\/\/127\.0\.0\.1:8222\/healthz\?js-enabled-only=true/);
  });

  // what these statements do on a real server: tools/docker/postgres-init.spec.mjs
  it('creates one database per app in the postgres init script, owned by its own role', () => {
    const mount = (service('postgres').volumes ?? []).find((volume) =>
      volume.includes('docker-entrypoint-initdb.d'),
    );
    expect(mount).toMatch(/^\.\/tools\/docker\/postgres-init:/);
    const sql = readFileSync(join(ROOT, 'tools/docker/postgres-init/01-create-databases.sql'), 'utf8');
    const postgresEnv = service('postgres').environment ?? {};
    for (const name of APP_NAMES) {
      expect(sql).toContain(`\\getenv ${name}_password ${databasePasswordOf(name)}\n`);
      expect(sql).toContain(`CREATE ROLE ${name} LOGIN PASSWORD :'${name}_password';`);
      expect(sql).toContain(`CREATE DATABASE ${name} OWNER ${name};`);
      expect(sql).toContain(`REVOKE ALL ON DATABASE ${name} FROM PUBLIC;`);
      expect(interpolate(postgresEnv[databasePasswordOf(name)] ?? '')).toBe(`<${databasePasswordOf(name)}>`);
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
    expect(variables.NATS_URL).toBe('tls://nats:4222');
    const database = new URL(variables.DATABASE_URL);
    expect(database.hostname).toBe('postgres');
    expect(database.pathname).toBe(`/${name}`);
    expect(database.username).toBe(name);
    expect(decodeURIComponent(database.password)).toBe(`<${databasePasswordOf(name)}>`);
  });

  it.each(APP_NAMES)(
    "gives %s neither the superuser's password nor another app's database password",
    (name) => {
      const others = [
        'POSTGRES_PASSWORD',
        ...APP_NAMES.filter((other) => other !== name).map(databasePasswordOf),
      ];
      const values = Object.values(env(name)).join('\n');
      for (const secret of others) expect(values).not.toContain(`<${secret}>`);
    },
  );

  it('gives every app the same AUTH_ISSUER and the verifiers the JWKS of the auth service', () => {
    const issuers = new Set(APP_NAMES.map((name) => env(name).AUTH_ISSUER));
    expect([...issuers]).toEqual(['http://auth:3000']);
    for (const name of ['orders', 'inventory'] as const) {
      expect(env(name).AUTH_JWKS_URI).toBe('http://auth:3000/.well-known/jwks.json');
      expect(env(name).AUTH_AUDIENCE).toBe(name);
    }
    expect(env('orders').ORDERS_RPC_TIMEOUT_MS).toBe('3000');
  });

  // an operator's .env names the lifetimes; compose forwarded none of them, and tokens kept 900 s
  it("passes the token lifetimes to auth, with the contract's defaults", () => {
    expect([env('auth').ACCESS_TOKEN_TTL, env('auth').REFRESH_TOKEN_TTL]).toEqual(['900', '1209600']);
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

  // Docker without Swarm restarts nothing for being unhealthy: only a restart policy brings back a
  // process that exited; `unless-stopped` leaves a container stopped on purpose alone
  it.each(['nats', 'postgres', ...APP_NAMES])(
    'restarts %s when its process exits, unless stopped',
    (name) => {
      expect(service(name).restart).toBe('unless-stopped');
    },
  );

  it('never restarts the one-shot nats-init', () => {
    expect(service('nats-init').restart).toBeUndefined();
  });

  it.each(APP_NAMES)('probes readiness, GET /health/ready, on the port of %s', (name) => {
    expect(healthcheckText(service(name))).toMatch(/\/health\/ready'/);
    expect(healthcheckText(service(name))).toMatch(/process\.env\.PORT/);
  });

  it.each(APP_NAMES)(
    'starts %s only once the bus material exists and its dependencies are healthy',
    (name) => {
      const { 'nats-init': init, ...healthy } = service(name).depends_on ?? {};
      expect(init).toEqual({ condition: 'service_completed_successfully' });
      const required = name === 'auth' ? ['nats', 'postgres'] : ['nats', 'postgres', 'auth'];
      for (const dependency of required) {
        expect(healthy[dependency]).toEqual({ condition: 'service_healthy' });
      }
      expect(Object.values(healthy).every((entry) => entry.condition === 'service_healthy')).toBe(true);
    },
  );
});

describe('docker-compose.yml: the closed bus', () => {
  const init = service('nats-init');
  const busOf = (name: string): string => `nats-bus-${name}`;
  const ownersOf = (volume: string): string[] =>
    Object.entries(compose.services)
      .filter(([name, entry]) => name !== 'nats-init' && busMountsOf(entry).some((m) => m.source === volume))
      .map(([name]) => name);

  it('builds nats-init from the bus-init stage and runs the nats-bus CLI once, keeping existing material', () => {
    expect(init.build).toEqual({ context: '.', target: 'bus-init' });
    const command = commandOf(init);
    expect(command.slice(0, 3)).toEqual(['node', 'libs/nats-bus/src/cli.js', '/bus']);
    expect(command).toContain('--if-missing');
    const values = (flag: string): string[] =>
      command.flatMap((arg, index) => (arg === flag ? [command[index + 1]] : []));
    expect(values('--host')).toEqual(['nats', 'localhost', '127.0.0.1']);
    expect(values('--store')).toEqual(['/data']);
    expect(values('--owner')).toEqual(['1000:1000']);
    expect(values('--listen')).toEqual(['0.0.0.0:4222']);
  });

  it('mounts the four bus volumes, writable, into nats-init and declares them', () => {
    expect(busMountsOf(init)).toEqual(
      BUS_VOLUMES.map((volume) => ({
        source: volume,
        target: `/bus/${volume.replace('nats-bus-', '')}`,
        isReadOnly: false,
      })),
    );
    expect(Object.keys(compose.volumes ?? {})).toEqual(expect.arrayContaining(BUS_VOLUMES));
  });

  // an upgrade rebuilds nats-init, which renders the new permission table: a server left running would
  // keep the old one in memory (readers refused what the new apps ask)
  it('gives nats only the server volume, read-only, starts it once nats-init has completed, and restarts it after an update of nats-init', () => {
    const nats = service('nats');
    expect(busMountsOf(nats)).toEqual([
      { source: 'nats-bus-server', target: '/bus/server', isReadOnly: true },
    ]);
    expect(nats.depends_on?.['nats-init']).toEqual({
      condition: 'service_completed_successfully',
      restart: true,
    });
  });

  it.each(APP_NAMES)(
    'gives %s only its own bus volume, read-only, and points its NATS_* inside it',
    (name) => {
      expect(busMountsOf(service(name))).toEqual([
        { source: busOf(name), target: `/bus/${name}`, isReadOnly: true },
      ]);
      expect(env(name).NATS_TLS_CA_FILE).toBe(`/bus/${name}/ca.pem`);
      expect(env(name).NATS_NKEY_SEED_FILE).toBe(`/bus/${name}/${name}.nk`);
    },
  );

  it("lets no service mount another's bus volume", () => {
    expect(Object.fromEntries(BUS_VOLUMES.map((volume) => [volume, ownersOf(volume)]))).toEqual({
      'nats-bus-server': ['nats'],
      'nats-bus-auth': ['auth'],
      'nats-bus-orders': ['orders'],
      'nats-bus-inventory': ['inventory'],
    });
  });

  it('runs orders in exchange mode unless PROPAGATION_MODE says otherwise', () => {
    expect(env('orders').PROPAGATION_MODE).toBe('exchange');
  });

  describe('running the init command as compose does', () => {
    // The command exactly as nats-init runs it, with /bus (its output directory) in a temp dir, and
    // without --owner unless root (only root may hand files to uid 1000).
    const isRoot = process.getuid?.() === 0;
    const outDir = commandOf(init)[2];
    let busDir = '';

    const runInit = (): { status: number | null; output: string } => {
      const command = commandOf(init).map((arg) => (arg === outDir ? busDir : arg));
      const owner = command.indexOf('--owner');
      if (!isRoot && owner >= 0) command.splice(owner, 2);
      expect(command[0]).toBe('node');
      const result = spawnSync(process.execPath, command.slice(1), {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 30_000,
      });
      return { status: result.status, output: `${result.stdout}${result.stderr}` };
    };

    /** Where a path inside `name`'s container lands: through its mount, to where nats-init wrote that volume. */
    const onHost = (name: string, containerPath: string): string => {
      const mount = busMountsOf(service(name)).find(
        (entry) => containerPath === entry.target || containerPath.startsWith(`${entry.target}/`),
      );
      if (mount === undefined) throw new Error(`${name} mounts no bus volume holding ${containerPath}`);
      const written = busMountsOf(init).find((entry) => entry.source === mount.source);
      if (written === undefined) throw new Error(`nats-init does not write ${mount.source}`);
      const inInit = posix.join(written.target, posix.relative(mount.target, containerPath));
      return join(busDir, posix.relative(outDir, inInit));
    };

    beforeAll(() => {
      busDir = mkdtempSync(join(tmpdir(), 'relay-compose-bus-'));
      const result = runInit();
      expect(result).toEqual({ status: 0, output: expect.stringMatching(/material written/) });
    });

    afterAll(() => {
      if (busDir !== '') rmSync(busDir, { recursive: true, force: true });
    });

    it.each(APP_NAMES)('writes the CA and seed files %s names, in the volume it mounts', (name) => {
      const seedFile = onHost(name, env(name).NATS_NKEY_SEED_FILE);
      const caFile = onHost(name, env(name).NATS_TLS_CA_FILE);
      expect(readFileSync(seedFile, 'utf8')).toMatch(/^SU[A-Z2-7]+\n$/);
      expect(statSync(seedFile).mode & 0o777).toBe(0o600);
      if (isRoot) expect(statSync(seedFile).uid).toBe(1000); // the image's node user
      const server = readFileSync(onHost('nats', '/bus/server/server-cert.pem'), 'utf8');
      const ca = new X509Certificate(readFileSync(caFile, 'utf8'));
      expect(new X509Certificate(server).verify(ca.publicKey)).toBe(true);
      // the name the apps dial, and those a client on the host dials (4222 is published on 127.0.0.1)
      expect(new X509Certificate(server).checkHost('nats')).toBe('nats');
      expect(new X509Certificate(server).checkHost('localhost')).toBe('localhost');
      expect(new X509Certificate(server).checkIP('127.0.0.1')).toBe('127.0.0.1');
    });

    it('writes the config nats runs, naming files in its own mounts and its JetStream volume', () => {
      const configFile = onHost('nats', commandOf(service('nats'))[1]);
      // the CLI writes where the server will see the files: /bus/… in compose, the temp dir here
      const config = readFileSync(configFile, 'utf8').replaceAll(busDir, outDir);
      const paths = [...config.matchAll(/^\s*(?:cert_file|key_file): "([^"]+)"/gm)].map((match) => match[1]);
      expect(paths).toEqual(['/bus/server/server-cert.pem', '/bus/server/server-key.pem']);
      for (const path of paths) expect(existsSync(onHost('nats', path))).toBe(true);
      expect(config).toMatch(/^\s*store_dir: "\/data"$/m);
      expect(mountsOf(service('nats'))).toContainEqual({
        source: 'nats-data',
        target: '/data',
        isReadOnly: false,
      });
      expect(config).toMatch(/^listen: "0\.0\.0\.0:4222"$/m);
      expect(config).toMatch(/^http: "127\.0\.0\.1:8222"$/m);
      for (const name of APP_NAMES) {
        const seed = readFileSync(onHost(name, env(name).NATS_NKEY_SEED_FILE), 'utf8');
        expect(config).toContain(`nkey: ${publicKeyOfSeed(seed)}`);
      }
    });

    it('keeps the material on a second run (--if-missing) and renders its config again', () => {
      const seedFile = onHost('orders', env('orders').NATS_NKEY_SEED_FILE);
      const configFile = onHost('nats', commandOf(service('nats'))[1]);
      const before = { seed: readFileSync(seedFile, 'utf8'), config: readFileSync(configFile, 'utf8') };
      // a volume written by an older release, with an older permission table
      writeFileSync(configFile, '# an older table\n');

      expect(runInit()).toEqual({
        status: 0,
        output: expect.stringMatching(/already in .*; kept.*rendered again/),
      });
      expect(readFileSync(seedFile, 'utf8')).toBe(before.seed);
      expect(readFileSync(configFile, 'utf8')).toBe(before.config);
    });
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

  // compose restarts nats whenever nats-init's image changes (to read a new permission table): that
  // image holds the dependencies and libs/nats-bus only, not every source file
  it('has a bus-init stage for nats-init that needs neither APP nor a build, nor any source but libs/nats-bus', () => {
    expect(stages.map((stage) => /^\S+ AS (\S+)/.exec(stage)?.[1])).toEqual([
      'modules',
      'deps',
      'bus-init',
      'build',
      'runtime',
    ]);
    const [modules, deps, busInit] = stages;
    expect(modules).not.toMatch(/^COPY \. \.$/m);
    expect(deps).toMatch(/^modules AS deps\s+COPY \. \.$/m);
    expect(busInit).toMatch(/^modules AS bus-init$/m);
    expect([...busInit.matchAll(/^COPY (.+)$/gm)].map((match) => match[1])).toEqual([
      'libs/nats-bus ./libs/nats-bus',
    ]);
    expect(`${modules}${deps}${busInit}`).not.toMatch(/ARG APP|\$\{APP\}|nx build/);
  });

  it('installs production dependencies from the lockfile generated for the app', () => {
    expect(runtime).toMatch(/^\$\{NODE_IMAGE\} AS runtime/);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-slim$/m);
    expect(runtime).toMatch(/dist\/apps\/\$\{APP\}\/package-lock\.json/);
    expect(runtime).toMatch(/npm ci --omit=dev/);
  });

  // npm 10 (node:20-slim's) ignores package.json's allowScripts: without the flag, an image whose npm
  // does would run each dependency's scripts as root (telemetry included)
  it('runs no install script of any dependency', () => {
    const installs = [...dockerfile.matchAll(/npm (ci|install)\b[^&\n]*/g)].map((match) => match[0]);
    expect(installs).toHaveLength(2);
    for (const install of installs) expect(install).toMatch(/--ignore-scripts/);
  });

  it('runs as a non-root user', () => {
    const users = [...runtime.matchAll(/^USER (\S+)/gm)].map((match) => match[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0']).not.toContain(users.at(-1));
  });

  it('starts main.js and checks liveness, GET /health/live', () => {
    expect(runtime).toMatch(/^CMD \["node", "main\.js"\]$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*fetch\('http:\/\/127\.0\.0\.1:' \+ port \+ '\/health\/live'\)/m);
  });

  it('keeps dependencies and build output out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.nx', '.data', '.git']));
  });
});

describe('docker-compose.yml secrets', () => {
  const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');

  it.each(REQUIRED_SECRETS)('requires %s from the shell or .env, with a message naming it', (name) => {
    const uses = [...text.matchAll(new RegExp(`\\$\\{${name}(:?[-?][^}]*)?\\}`, 'g'))].map(
      (match) => match[1],
    );

    expect(uses.length).toBeGreaterThan(0);
    for (const use of uses) expect(use).toMatch(new RegExp(`^:\\?set ${name} `));
  });

  it('takes every password, secret and key from the shell or .env, none with a default', () => {
    const secrets = new Set(
      [...text.matchAll(/\$\{(\w*(?:PASSWORD|SECRET|_KEY)\w*)/g)].map((match) => match[1]),
    );

    expect(secrets.size).toBeGreaterThan(0);
    expect([...secrets].sort()).toEqual([...REQUIRED_SECRETS].sort());
  });

  it('gives auth the key that seals its signing keys, and no other app', () => {
    expect(env('auth')['AUTH_KEY_ENCRYPTION_KEY']).toBe('<AUTH_KEY_ENCRYPTION_KEY>');
    expect(env('orders')['AUTH_KEY_ENCRYPTION_KEY']).toBeUndefined();
    expect(env('inventory')['AUTH_KEY_ENCRYPTION_KEY']).toBeUndefined();
  });
});
