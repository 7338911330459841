import { createScratchPostgresDatabase, type Database, openDatabase } from '@relay/database';

import { AUTH_MIGRATIONS } from '../database/migrations';

/** A migrated auth database for one spec file, and how to throw it away. */
export interface TestDatabase {
  db: Database;
  cleanup(): Promise<void>;
}

/** Where a spec can run the auth schema (specs only). */
export interface TestDatabaseBackend {
  name: 'PGlite' | 'PostgreSQL';
  open(): Promise<TestDatabase>;
}

/**
 * In-memory PGlite and a scratch database on the local PostgreSQL server
 * (`RELAY_TEST_POSTGRES_URL`), for `describe.each(TEST_DATABASE_BACKENDS)('… on $name', …)`.
 */
export const TEST_DATABASE_BACKENDS: readonly TestDatabaseBackend[] = [
  {
    name: 'PGlite',
    open: async () => {
      const db = await openDatabase({ migrations: AUTH_MIGRATIONS });
      return { db, cleanup: () => db.close() };
    },
  },
  {
    name: 'PostgreSQL',
    open: async () => {
      const scratch = await createScratchPostgresDatabase();
      const db = await openDatabase({ url: scratch.url, migrations: AUTH_MIGRATIONS });
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
