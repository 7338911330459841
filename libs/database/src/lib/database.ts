/** One SQL migration; `id` orders them and is recorded once applied. */
export interface Migration {
  id: string;
  sql: string;
}

/** Something that runs parameterised SQL (`$1`, `$2`, …): the database or an open transaction. */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

/** A service's own PostgreSQL database, embedded (PGlite) or a server (pg). */
export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /**
   * Runs `work` inside BEGIN/COMMIT; any throw rolls back and rethrows, and so does a statement that
   * failed even when `work` caught it (the transaction is doomed: no savepoints here).
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Where a service keeps its data. */
export interface OpenDatabaseOptions {
  /** A `postgres://` URL: use that server. Unset: embedded PGlite. */
  url?: string;
  /** PGlite data directory (created if missing). Unset with no `url`: in memory (tests only). */
  dataDir?: string;
  /** Applied in `id` order at open, each once. */
  migrations: readonly Migration[];
  /** On a server: its statement and idle-in-transaction timeouts (0: left to the server). Default: `DEFAULT_POSTGRES_TIMEOUTS`. */
  timeouts?: PostgresTimeouts;
}

/** How long a PostgreSQL server lets a statement run, and a transaction sit idle, before it ends them; 0: not set by the app. */
export interface PostgresTimeouts {
  /**
   * `statement_timeout`: a statement still running (or waiting for a lock) after this long is
   * cancelled and its call fails, instead of holding a request, a pooled connection and its locks for
   * as long as the server takes. Migrations are exempt (`migrate`).
   */
  statementMs: number;
  /**
   * `idle_in_transaction_session_timeout`: a transaction its process stopped driving (stalled, or cut
   * off from the server) is rolled back and its connection closed, so its row locks do not hold every
   * other request on those rows.
   */
  idleInTransactionMs: number;
}
