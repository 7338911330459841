import type { Database, OpenDatabaseOptions } from './database';
import { migrate } from './migrate';
import { PgliteDatabase } from './pglite-database';
import { PostgresDatabase } from './postgres-database';
import { tracedDatabase } from './traced-database';

/** Opens the service's database (server when `url` is set, else embedded), migrates it, and traces its statements. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const database = options.url
    ? await PostgresDatabase.open(options.url, options.timeouts)
    : await PgliteDatabase.open(options.dataDir);
  try {
    await migrate(database, options.migrations);
  } catch (error) {
    await database.close();
    throw error;
  }
  return tracedDatabase(database);
}
