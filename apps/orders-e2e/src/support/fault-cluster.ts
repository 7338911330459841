import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { getFreePort, type NatsServer, startNatsServer } from '@relay/testing';

import { ADMIN, APP_NAMES, type AppName, issuerAt, jwksUriOf } from './e2e-env';
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

/** The client orders uses for service-token releases (AUTH_CLIENTS on auth). */
export const ORDERS_SERVICE_CLIENT_ID = 'orders-service';

/**
 * A private nats-server and the three built apps on free ports with their own temp DATA_DIR
 * (and, for `postgres`, three scratch databases): a fault spec can kill and restart any of them.
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
      nats = await startNatsServer({ jetstream: true });
      if (backend === 'postgres') databases = await createScratchPostgres(APP_NAMES);
      const ports = {} as Record<AppName, number>;
      for (const name of APP_NAMES) ports[name] = await getFreePort();
      const issuer = issuerAt(ports);
      const secret = randomBytes(24).toString('hex');
      const apps = {} as Record<AppName, ManagedApp>;
      for (const name of APP_NAMES) {
        const env: NodeJS.ProcessEnv = {
          ...process.env,
          PORT: String(ports[name]),
          NATS_URL: nats.url,
          DATA_DIR: dataDir,
          AUTH_ISSUER: issuer,
          LOG_LEVEL: 'warn',
          ...roleEnv(name, issuer, secret),
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

function roleEnv(name: AppName, issuer: string, secret: string): Record<string, string> {
  switch (name) {
    case 'auth':
      return {
        AUTH_ADMIN_EMAIL: ADMIN.email,
        AUTH_ADMIN_PASSWORD: ADMIN.password,
        AUTH_CLIENTS: `${ORDERS_SERVICE_CLIENT_ID}:${secret}:inventory:release`,
      };
    case 'orders':
      return {
        AUTH_JWKS_URI: jwksUriOf(issuer),
        AUTH_CLIENT_ID: ORDERS_SERVICE_CLIENT_ID,
        AUTH_CLIENT_SECRET: secret,
      };
    case 'inventory':
      return { AUTH_JWKS_URI: jwksUriOf(issuer) };
  }
}
