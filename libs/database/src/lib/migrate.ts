import { setTimeout as sleep } from 'node:timers/promises';

import { Logger } from '@nestjs/common';

import type { Database, Migration } from './database';

// Any constant works; it only has to be the same for every instance of every app.
const MIGRATION_LOCK_KEY = 7_301_994;
// PostgreSQL's lock_not_available: a lock not granted within lock_timeout
const LOCK_NOT_AVAILABLE = '55P03';

/** How long a migration waits for its tables, and how often it tries (see {@link migrate}). */
export interface MigrateOptions {
  /** The longest one statement waits for a table's lock (default 5000 ms). */
  lockTimeoutMs?: number;
  /** Attempts before the start fails (default 6). */
  attempts?: number;
  /** The pause between two attempts (default 5000 ms), in which the traffic waiting behind it runs. */
  pauseMs?: number;
}

/**
 * Applies the migrations not yet recorded, in `id` order, in one transaction. The advisory lock
 * makes two instances starting together on one server take turns instead of racing. Neither the
 * wait for that lock nor a migration is bound by the connection's statement timeout: an index built
 * on a large table may take minutes, and so may another instance's migration.
 *
 * The wait for a table's lock is bound (`lockTimeoutMs`): an `ALTER TABLE` queued behind a long
 * transaction on its table makes every statement on that table queue behind it in turn, so one slow
 * report during a rolling deploy would stall the logins of every running replica. Past the bound the
 * attempt is rolled back, the traffic runs, and it is tried again after `pauseMs`; after `attempts`
 * the start fails, saying so.
 */
export async function migrate(
  database: Database,
  migrations: readonly Migration[],
  { lockTimeoutMs = 5000, attempts = 6, pauseMs = 5000 }: MigrateOptions = {},
): Promise<string[]> {
  const ordered = [...migrations].sort((a, b) => a.id.localeCompare(b.id));
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateOnce(database, ordered, lockTimeoutMs);
    } catch (error) {
      if ((error as { code?: unknown }).code !== LOCK_NOT_AVAILABLE) throw error;
      if (attempt >= attempts) {
        throw new Error(
          `Migrations could not lock their tables in ${attempts} attempts of ${lockTimeoutMs} ms: ` +
            'a long transaction holds them; end it, or start again later',
          { cause: error },
        );
      }
      new Logger('Database').warn(
        `Migrations waited ${lockTimeoutMs} ms for a table another transaction holds; ` +
          `trying again in ${pauseMs} ms (attempt ${attempt + 1} of ${attempts})`,
      );
      await sleep(pauseMs);
    }
  }
}

function migrateOnce(
  database: Database,
  ordered: readonly Migration[],
  lockTimeoutMs: number,
): Promise<string[]> {
  return database.transaction(async (tx) => {
    await tx.query('SET LOCAL statement_timeout = 0');
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    // set after the advisory lock: another instance's migration is waited for, however long
    await tx.query(`SET LOCAL lock_timeout = ${Math.trunc(lockTimeoutMs)}`);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         id text PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const rows = await tx.query<{ id: string }>('SELECT id FROM schema_migrations');
    const applied = new Set(rows.map((row) => row.id));
    const pending = ordered.filter((migration) => !applied.has(migration.id));
    for (const migration of pending) {
      await tx.query(migration.sql);
      await tx.query('INSERT INTO schema_migrations (id) VALUES ($1)', [migration.id]);
    }
    return pending.map((migration) => migration.id);
  });
}
