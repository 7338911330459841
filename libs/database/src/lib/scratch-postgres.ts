import { randomBytes } from 'node:crypto';

import { Client } from 'pg';

/** A throwaway database on the local PostgreSQL server, for specs and e2e runs. */
export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Creates `relay_test_<random>` on the server named by `RELAY_TEST_POSTGRES_URL`
 * (default: local trust auth as `postgres`), so parallel test files never share state.
 */
export async function createScratchPostgresDatabase(
  adminUrl = process.env['RELAY_TEST_POSTGRES_URL'] ?? DEFAULT_ADMIN_URL,
): Promise<ScratchDatabase> {
  const name = `relay_test_${randomBytes(6).toString('hex')}`;
  await withAdminClient(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await withAdminClient(adminUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
      );
    },
  };
}

async function withAdminClient<T>(adminUrl: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
