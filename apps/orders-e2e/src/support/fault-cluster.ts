import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type BusConnectionInfo, getFreePort, type NatsServer, startNatsServer } from '@relay/testing';

import { HEALTH_TIMEOUT_MS } from './app-processes';
import { ADMIN, APP_NAMES, type AppName, busEnv, issuerAt, jwksUriOf } from './e2e-env';
import { ManagedApp } from './managed-app';
import { createScratchPostgres, dropScratchPostgres, type ScratchPostgres } from './scratch-postgres';

/** Where the apps keep their data: embedded PGlite under DATA_DIR, or one PostgreSQL database each. */
export type Backend = 'pglite' | 'postgres';

export interface FaultClusterOptions {
  /** Prefix of the apps' log lines, e.g. `nats-restart`. */
  label: string;
  backend?: Backend;
  /** Extra environment per app (e.g. `{ orders: { ORDERS_RPC_TIMEOUT_MS: '1500' } }`). */
  env?: Partial<Record<AppName, Record<string, string>>>;
}

/** Timeout of a `beforeAll` starting a cluster: HEALTH_TIMEOUT_MS for its apps, plus the spec's setup. */
export const CLUSTER_START_TIMEOUT_MS = HEALTH_TIMEOUT_MS + 30_000;

/** The client orders uses for service-token releases and token exchange (AUTH_CLIENTS on auth). */
export const ORDERS_SERVICE_CLIENT_ID = 'orders-service';

/** The client inventory acknowledges reservations with when the caller's token is not for orders. */
export const INVENTORY_SERVICE_CLIENT_ID = 'inventory-service';

/**
 * A private closed nats-server (TLS, one NKey identity per service) and the three built apps on free
 * ports with their own temp DATA_DIR (and, for `postgres`, three scratch databases): a fault spec can
 * kill and restart any of them.
 */
export class FaultCluster {
  private constructor(
    readonly label: string,
    readonly backend: Backend,
    readonly dataDir: string,
    readonly nats: NatsServer,
    readonly apps: Record<AppName, ManagedApp>,
    readonly databases: Partial<Record<AppName, ScratchPostgres>>,
  ) {}

  static async start(options: FaultClusterOptions): Promise<FaultCluster> {
    const backend = options.backend ?? 'pglite';
    const dataDir = mkdtempSync(join(tmpdir(), `relay-e2e-${options.label}-`));
    let nats: NatsServer | undefined;
    let databases: Partial<Record<AppName, ScratchPostgres>> = {};
    try {
      nats = await startNatsServer({ closed: true });
      const bus = busOf(nats);
      if (backend === 'postgres') databases = await createScratchPostgres(APP_NAMES);
      const ports = {} as Record<AppName, number>;
      for (const name of APP_NAMES) ports[name] = await getFreePort();
      const issuer = issuerAt(ports);
      const secrets = { orders: randomBytes(24).toString('hex'), inventory: randomBytes(24).toString('hex') };
      const apps = {} as Record<AppName, ManagedApp>;
      for (const name of APP_NAMES) {
        const env: NodeJS.ProcessEnv = {
          ...process.env,
          PORT: String(ports[name]),
          ...busEnv(bus, name),
          DATA_DIR: dataDir,
          AUTH_ISSUER: issuer,
          LOG_LEVEL: 'warn',
          // every spec's users register from 127.0.0.1
          AUTH_REGISTRATIONS_PER_ADDRESS: '1000000',
          ...roleEnv(name, issuer, secrets),
          ...options.env?.[name],
        };
        delete env['DATABASE_URL'];
        const database = databases[name];
        if (database) env['DATABASE_URL'] = database.url;
        apps[name] = new ManagedApp(name, ports[name], env, `${options.label} ${name}`);
      }
      const cluster = new FaultCluster(options.label, backend, dataDir, nats, apps, databases);
      try {
        await cluster.startApps();
      } catch (error) {
        await cluster.stop();
        throw error;
      }
      return cluster;
    } catch (error) {
      // every step is idempotent: cluster.stop() may have run already
      await nats?.stop();
      await dropScratchPostgres(Object.values(databases)).catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** What a spec needs to connect to this cluster's bus as one of the services (`connectBus`). */
  get bus(): BusConnectionInfo {
    return busOf(this.nats);
  }

  get authUrl(): string {
    return this.apps.auth.url;
  }

  get ordersUrl(): string {
    return this.apps.orders.url;
  }

  get inventoryUrl(): string {
    return this.apps.inventory.url;
  }

  /** Spawns every app that is not running and waits until all answer /health 200. */
  async startApps(): Promise<void> {
    const stopped = APP_NAMES.map((name) => this.apps[name]).filter((app) => !app.isRunning);
    for (const app of stopped) app.spawn();
    await Promise.all(stopped.map((app) => app.waitHealthy()));
  }

  /** Waits until every app answers /health 200 (e.g. after a NATS outage). */
  async waitHealthy(timeoutMs: number): Promise<void> {
    await Promise.all(APP_NAMES.map((name) => this.apps[name].waitHealthy(timeoutMs)));
  }

  /** Names of the apps whose process is gone, with how each ended. */
  deadApps(): string[] {
    return APP_NAMES.filter((name) => !this.apps[name].isRunning).map(
      (name) => `${name} (${this.apps[name].exit ?? 'never started'})`,
    );
  }

  /** Stops everything, drops the scratch databases and removes DATA_DIR. */
  async stop(): Promise<void> {
    for (const name of APP_NAMES) this.apps[name].thaw();
    await Promise.all(APP_NAMES.map((name) => this.apps[name].stop(5000)));
    await this.nats.stop();
    await dropScratchPostgres(Object.values(this.databases));
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

function busOf(nats: NatsServer): BusConnectionInfo {
  if (nats.bus === undefined) throw new Error('the closed nats-server came without its connection info');
  return nats.bus;
}

type ServiceSecrets = Record<Exclude<AppName, 'auth'>, string>;

function roleEnv(name: AppName, issuer: string, secrets: ServiceSecrets): Record<string, string> {
  switch (name) {
    case 'auth':
      return {
        AUTH_ADMIN_EMAIL: ADMIN.email,
        AUTH_ADMIN_PASSWORD: ADMIN.password,
        AUTH_CLIENTS: [
          `${ORDERS_SERVICE_CLIENT_ID}:${secrets.orders}:inventory:release`,
          `${INVENTORY_SERVICE_CLIENT_ID}:${secrets.inventory}:orders:acknowledge`,
        ].join(','),
      };
    case 'orders':
      return {
        AUTH_JWKS_URI: jwksUriOf(issuer),
        AUTH_CLIENT_ID: ORDERS_SERVICE_CLIENT_ID,
        AUTH_CLIENT_SECRET: secrets.orders,
      };
    case 'inventory':
      return {
        AUTH_JWKS_URI: jwksUriOf(issuer),
        AUTH_CLIENT_ID: INVENTORY_SERVICE_CLIENT_ID,
        AUTH_CLIENT_SECRET: secrets.inventory,
      };
  }
}
