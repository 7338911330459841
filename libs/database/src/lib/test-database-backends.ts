import type { Database, Migration } from './database';
import { openDatabase } from './open-database';
import { createScratchPostgresDatabase } from './scratch-postgres';

/** A migrated database for one spec file, and how to throw it away. */
export interface TestDatabase {
  db: Database;
  cleanup(): Promise<void>;
}

/** Where a spec can run an app's schema (specs only). */
export interface TestDatabaseBackend {
  name: 'PGlite' | 'PostgreSQL';
  open(): Promise<TestDatabase>;
}

/**
 * In-memory PGlite and a scratch database on the local PostgreSQL server
 * (`RELAY_TEST_POSTGRES_URL`), each migrated with `migrations`, for
 * `describe.each(testDatabaseBackends(migrations))('… on $name', …)`.
 */
export function testDatabaseBackends(migrations: readonly Migration[]): readonly TestDatabaseBackend[] {
  return [
    {
      name: 'PGlite',
      open: async () => {
        const db = await openDatabase({ migrations });
        return { db, cleanup: () => db.close() };
      },
    },
    {
      name: 'PostgreSQL',
      open: async () => {
        const scratch = await createScratchPostgresDatabase();
        const db = await openDatabase({ url: scratch.url, migrations });
        return {
          db,
          cleanup: async () => {
            await db.close();
            await scratch.drop();
          },
        };
      },
    },
  ];
}
