import { Logger } from '@nestjs/common';
import { Pool, type PoolClient, type PoolConfig, type QueryConfig, type QueryResultRow } from 'pg';

import { describeError } from '@relay/contracts';

import type { Database, PostgresTimeouts, Queryable } from './database';
import { DatabaseUnavailableError, isDatabaseUnavailable } from './database-unavailable';
import { runOnTransaction } from './transaction-handle';

/** Past this many distinct statement texts, further ones run unnamed (a bound on what each connection holds). */
const MAX_PREPARED_STATEMENTS = 500;

/** The defaults of `DATABASE_STATEMENT_TIMEOUT_MS` and `DATABASE_IDLE_TRANSACTION_TIMEOUT_MS`: far above any statement or transaction step of the apps, far below a hung request's patience. */
export const DEFAULT_POSTGRES_TIMEOUTS: PostgresTimeouts = {
  statementMs: 15_000,
  idleInTransactionMs: 30_000,
};

const READ_COMMITTED = 'SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED';
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

  private readonly logger = new Logger('Database');
  // set while calls fail for want of the server: its outage is logged once, and its return
  private isUnavailable = false;

  private constructor(
    private readonly pool: Pool,
    // `ping`'s own connection (opened when first asked for, closed after a minute unused): a probe
    // that waited in the traffic's queue read a burst holding every pooled connection for the health
    // check's 2 s as the database down, and a replica under load was taken out of rotation for it
    private readonly probe: Pool,
  ) {}

  static async open(url: string, timeouts = DEFAULT_POSTGRES_TIMEOUTS): Promise<PostgresDatabase> {
    const options: PoolConfig = {
      connectionString: url,
      connectionTimeoutMillis: 5000,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEP_ALIVE_INITIAL_DELAY_MS,
      // sent as connection parameters; 0 sends none (PgBouncer refuses them: set them on the role)
      ...(timeouts.statementMs > 0 ? { statement_timeout: timeouts.statementMs } : {}),
      ...(timeouts.idleInTransactionMs > 0
        ? { idle_in_transaction_session_timeout: timeouts.idleInTransactionMs }
        : {}),
    };
    const pool = new Pool({
      ...options,
      max: 10,
      // Every statement READ COMMITTED, whatever the server's default: the services' races (a settle
      // meeting the recovery's, a release meeting a reserve) wait for a row and then read it committed,
      // which a REPEATABLE READ default fails with 40001. Awaited before the connection's first query (a
      // failure fails that query, and the connection is dropped); sent beside it, as a 'connect'
      // listener did, it made pg warn of a query sent while another runs (an error from pg 9).
      // Transactions also say it in their BEGIN, for a pooler (PgBouncer in transaction mode) that may
      // hand them a server connection this never set; its single statements need the role's setting
      // then (README).
      // pg-pool awaits the hook's promise; @types/pg still types it as returning void
      // eslint-disable-next-line @typescript-eslint/no-misused-promises
      onConnect: (client) => client.query(READ_COMMITTED),
    });
    const probe = new Pool({ ...options, max: 1, idleTimeoutMillis: 60_000 });
    // An idle client that loses its server must not crash the process; the next query reconnects.
    for (const each of [pool, probe]) each.on('error', () => undefined);
    // the first answer, untranslated: a start that cannot reach the server says why
    try {
      await pool.query('SELECT 1');
    } catch (error) {
      await Promise.all([pool.end(), probe.end()]).catch(() => undefined);
      throw error;
    }
    return new PostgresDatabase(pool, probe);
  }

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.run<T>(this.pool, this.statements.config(sql, params));
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.translate(error);
    }
    // pg-pool hears a client's errors only while it is idle: a server connection lost now (a restart, a
    // failover) would emit an unhandled 'error' and end the process. The query in flight rejects too.
    let broken: Error | undefined;
    const onError = (error: Error): void => {
      broken = error;
    };
    client.on('error', onError);
    try {
      // READ COMMITTED whatever the server's default (see open())
      await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      const result = await runOnTransaction(wrapClient(client, this.statements), work);
      await client.query('COMMIT');
      if (this.isUnavailable) this.markAvailable();
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackFailed: Error) => {
        broken ??= rollbackFailed;
      });
      throw this.translate(error);
    } finally {
      client.off('error', onError);
      // a connection that failed, or could not roll back, is closed rather than handed out again
      client.release(broken);
    }
  }

  async ping(): Promise<void> {
    await this.run(this.probe, { text: 'SELECT 1' });
  }

  async close(): Promise<void> {
    await Promise.all([this.pool, this.probe].map((pool) => (pool.ended ? undefined : pool.end())));
  }

  private async run<T>(pool: Pool, config: QueryConfig): Promise<T[]> {
    try {
      const result = await pool.query<QueryResultRow>(config);
      if (this.isUnavailable) this.markAvailable();
      return result.rows as T[];
    } catch (error) {
      throw this.translate(error);
    }
  }

  /** A call's failure as its caller gets it: {@link DatabaseUnavailableError} when the server could not answer. */
  private translate(error: unknown): unknown {
    if (error instanceof DatabaseUnavailableError || !isDatabaseUnavailable(error)) return error;
    if (!this.isUnavailable) {
      this.isUnavailable = true;
      this.logger.warn(
        `Database unavailable (${describeError(error)}); calls answer 503 until it answers again`,
      );
    }
    return new DatabaseUnavailableError(error);
  }

  private markAvailable(): void {
    this.isUnavailable = false;
    this.logger.log('Database answering again');
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
