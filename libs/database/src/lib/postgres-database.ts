import { Pool, type PoolClient, type QueryConfig, type QueryResultRow } from 'pg';

import type { Database, PostgresTimeouts, Queryable } from './database';

/** Past this many distinct statement texts, further ones run unnamed (a bound on what each connection holds). */
const MAX_PREPARED_STATEMENTS = 500;

/** The defaults of `DATABASE_STATEMENT_TIMEOUT_MS` and `DATABASE_IDLE_TRANSACTION_TIMEOUT_MS`: far above any statement or transaction step of the apps, far below a hung request's patience. */
export const DEFAULT_POSTGRES_TIMEOUTS: PostgresTimeouts = {
  statementMs: 15_000,
  idleInTransactionMs: 30_000,
};

// TCP keep-alive probes once a connection has been silent for 10 s: without them a statement sent
// to a server that then vanished (a host lost, a NAT entry dropped) waits for an answer for ever; with
// them the connection fails once the OS's probes go unanswered (about 11 minutes at Linux's defaults)
const KEEP_ALIVE_INITIAL_DELAY_MS = 10_000;

/**
 * A PostgreSQL server reached through a small connection pool. Parameterised statements run as
 * named prepared statements: each connection parses a text once (and PostgreSQL may keep its plan),
 * where an unnamed one is parsed and planned on every call. Measured on the login path: a third of a
 * statement's server time was its parse. SQL without parameters (a migration's script, which may
 * hold several commands) runs as it is.
 */
export class PostgresDatabase implements Database {
  readonly kind = 'postgres';
  private readonly statements = new PreparedStatements(MAX_PREPARED_STATEMENTS);

  private constructor(private readonly pool: Pool) {}

  static async open(url: string, timeouts = DEFAULT_POSTGRES_TIMEOUTS): Promise<PostgresDatabase> {
    const pool = new Pool({
      connectionString: url,
      max: 10,
      connectionTimeoutMillis: 5000,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEP_ALIVE_INITIAL_DELAY_MS,
      // sent as connection parameters; 0 sends none (PgBouncer refuses them: set them on the role)
      ...(timeouts.statementMs > 0 ? { statement_timeout: timeouts.statementMs } : {}),
      ...(timeouts.idleInTransactionMs > 0
        ? { idle_in_transaction_session_timeout: timeouts.idleInTransactionMs }
        : {}),
    });
    // An idle client that loses its server must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    const database = new PostgresDatabase(pool);
    await database.ping();
    return database;
  }

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const result = await this.pool.query<QueryResultRow>(this.statements.config(sql, params));
    return result.rows as T[];
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // pg-pool hears a client's errors only while it is idle: a server connection lost now (a restart, a
    // failover) would emit an unhandled 'error' and end the process. The query in flight rejects too.
    let broken: Error | undefined;
    const onError = (error: Error): void => {
      broken = error;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await work(wrapClient(client, this.statements));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackFailed: Error) => {
        broken ??= rollbackFailed;
      });
      throw error;
    } finally {
      client.off('error', onError);
      // a connection that failed, or could not roll back, is closed rather than handed out again
      client.release(broken);
    }
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (!this.pool.ended) {
      await this.pool.end();
    }
  }
}

function wrapClient(client: PoolClient, statements: PreparedStatements): Queryable {
  return {
    async query<T>(sql: string, params: readonly unknown[] = []) {
      const result = await client.query<QueryResultRow>(statements.config(sql, params));
      return result.rows as T[];
    },
  };
}

/** The name of each statement text (`s1`, `s2`, …: one text per name, as pg requires on a connection). */
export class PreparedStatements {
  private readonly names = new Map<string, string>();

  constructor(private readonly capacity: number) {}

  /** pg's query config for `sql`: named when it has parameters and a name is (or can be) given. */
  config(sql: string, params: readonly unknown[]): QueryConfig {
    const values = [...params];
    if (values.length === 0) return { text: sql, values };
    let name = this.names.get(sql);
    if (name === undefined && this.names.size < this.capacity) {
      name = `s${this.names.size + 1}`;
      this.names.set(sql, name);
    }
    return name === undefined ? { text: sql, values } : { name, text: sql, values };
  }
}
