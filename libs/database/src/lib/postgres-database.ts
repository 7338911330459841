import { Pool, type PoolClient, type QueryResultRow } from 'pg';

import type { Database, Queryable } from './database';

/** A PostgreSQL server reached through a small connection pool. */
export class PostgresDatabase implements Database {
  readonly kind = 'postgres';

  private constructor(private readonly pool: Pool) {}

  static async open(url: string): Promise<PostgresDatabase> {
    const pool = new Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5000 });
    // An idle client that loses its server must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    const database = new PostgresDatabase(pool);
    await database.ping();
    return database;
  }

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const result = await this.pool.query<QueryResultRow>(sql, [...params]);
    return result.rows as T[];
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(wrapClient(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
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

function wrapClient(client: PoolClient): Queryable {
  return {
    async query<T>(sql: string, params: readonly unknown[] = []) {
      const result = await client.query<QueryResultRow>(sql, [...params]);
      return result.rows as T[];
    },
  };
}
