import type { Database, Migration } from './database';

// Any constant works; it only has to be the same for every instance of every app.
const MIGRATION_LOCK_KEY = 7_301_994;

/**
 * Applies the migrations not yet recorded, in `id` order, in one transaction. The advisory lock
 * makes two instances starting together on one server take turns instead of racing. Neither the
 * wait for that lock nor a migration is bound by the connection's statement timeout: an index built
 * on a large table may take minutes, and so may another instance's migration.
 */
export async function migrate(database: Database, migrations: readonly Migration[]): Promise<string[]> {
  const ordered = [...migrations].sort((a, b) => a.id.localeCompare(b.id));
  return database.transaction(async (tx) => {
    await tx.query('SET LOCAL statement_timeout = 0');
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
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
