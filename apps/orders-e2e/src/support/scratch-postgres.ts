import { randomBytes } from 'node:crypto';

import { Client } from 'pg';

const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** A throwaway database on the local PostgreSQL server. */
export interface ScratchPostgres {
  name: string;
  url: string;
}

function adminUrl(): string {
  return process.env['RELAY_TEST_POSTGRES_URL'] ?? DEFAULT_ADMIN_URL;
}

async function asAdmin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates one `relay_e2e_<random>` database per label (e2e projects may not import
 * `@relay/database`, so this mirrors its `createScratchPostgresDatabase`). Admin URL from
 * `RELAY_TEST_POSTGRES_URL`, default local trust auth as `postgres`.
 */
export async function createScratchPostgres<K extends string>(
  labels: readonly K[],
): Promise<Record<K, ScratchPostgres>> {
  const created = {} as Record<K, ScratchPostgres>;
  await asAdmin(async (client) => {
    for (const label of labels) {
      const name = `relay_e2e_${label}_${randomBytes(5).toString('hex')}`;
      await client.query(`CREATE DATABASE ${name}`);
      const url = new URL(adminUrl());
      url.pathname = `/${name}`;
      created[label] = { name, url: url.toString() };
    }
  });
  return created;
}

/** Drops the databases, closing whatever connections are left. */
export async function dropScratchPostgres(databases: readonly ScratchPostgres[]): Promise<void> {
  await asAdmin(async (client) => {
    for (const database of databases) {
      await client.query(`DROP DATABASE IF EXISTS ${database.name} WITH (FORCE)`);
    }
  });
}

/** Runs one query on a scratch database (to look behind an app, e.g. at its reservations). */
export async function queryScratch<T extends object>(
  database: ScratchPostgres,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new Client({ connectionString: database.url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}
