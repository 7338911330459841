export type { Database, Migration, OpenDatabaseOptions, PostgresTimeouts, Queryable } from './lib/database';
export { DatabaseUnavailableError, isDatabaseUnavailable } from './lib/database-unavailable';
export { openDatabase } from './lib/open-database';
export { probePostgres } from './lib/probe-postgres';
export { DATABASE, DatabaseModule, type DatabaseModuleAsyncOptions } from './lib/database.module';
export { createScratchPostgresDatabase, type ScratchDatabase } from './lib/scratch-postgres';
export {
  testDatabaseBackends,
  type TestDatabase,
  type TestDatabaseBackend,
} from './lib/test-database-backends';
