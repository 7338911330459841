import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client } from 'pg';

import type { DatabaseKind } from '../core/options';

/** The apps whose databases the bench provides. */
export const APP_NAMES = ['auth', 'orders', 'inventory'] as const;
export type AppName = (typeof APP_NAMES)[number];

/** Each app's database settings and how to throw them away. */
export interface StackDatabases {
  dataDir: string;
  /** `DATABASE_URL` per app on PostgreSQL; empty on PGlite (embedded under `dataDir`). */
  urls: Partial<Record<AppName, string>>;
  drop(): Promise<void>;
}

async function withAdmin<T>(adminUrl: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A fresh data directory, plus (PostgreSQL) one fresh database per app on the server at `adminUrl`. */
export async function createStackDatabases(kind: DatabaseKind, adminUrl: string): Promise<StackDatabases> {
  const dataDir = mkdtempSync(join(tmpdir(), `relay-bench-${kind}-`));
  const removeDir = (): void => rmSync(dataDir, { recursive: true, force: true });
  if (kind === 'pglite') return { dataDir, urls: {}, drop: () => Promise.resolve(removeDir()) };
  const prefix = `relay_bench_${randomBytes(4).toString('hex')}`;
  const names = APP_NAMES.map((app) => `${prefix}_${app}`);
  try {
    await withAdmin(adminUrl, async (client) => {
      for (const name of names) await client.query(`CREATE DATABASE "${name}"`);
    });
  } catch (error) {
    removeDir();
    throw error;
  }
  const urlOf = (name: string): string => {
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return url.toString();
  };
  return {
    dataDir,
    urls: Object.fromEntries(APP_NAMES.map((app, index) => [app, urlOf(names[index])])),
    drop: async () => {
      removeDir();
      await withAdmin(adminUrl, async (client) => {
        for (const name of names) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      });
    },
  };
}
