import { mkdirSync } from 'node:fs';

import { PGlite, type Transaction } from '@electric-sql/pglite';

import { lockDataDir } from './data-dir-lock';
import type { Database, Queryable } from './database';
import { runOnTransaction } from './transaction-handle';

/** Embedded PostgreSQL (WASM) in this process; PGlite serialises every query on one connection. */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite';

  private constructor(
    private readonly db: PGlite,
    private readonly unlock: () => void,
  ) {}

  /** Opens (creating) the data directory, refusing one another live process has open; in memory without one. */
  static async open(dataDir?: string): Promise<PgliteDatabase> {
    if (!dataDir) return new PgliteDatabase(await PGlite.create(), () => undefined);
    mkdirSync(dataDir, { recursive: true });
    const unlock = lockDataDir(dataDir);
    try {
      return new PgliteDatabase(await PGlite.create(dataDir), unlock);
    } catch (error) {
      unlock();
      throw error;
    }
  }

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    try {
      return (await this.db.query<T>(sql, [...params])).rows;
    } catch (error) {
      throw withoutValues(error);
    }
  }

  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => runOnTransaction(wrapTransaction(tx), work));
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (!this.db.closed) {
      await this.db.close();
    }
    this.unlock();
  }
}

function wrapTransaction(tx: Transaction): Queryable {
  return {
    async query<T>(sql: string, params: readonly unknown[] = []) {
      try {
        return (await tx.query<T>(sql, [...params])).rows;
      } catch (error) {
        throw withoutValues(error);
      }
    },
  };
}

// PGlite puts a failed statement's bound values on its error (`params`, `queryOptions`): a password
// hash, an email, a private key would reach whatever logs the error
function withoutValues(error: unknown): unknown {
  if (typeof error === 'object' && error !== null) {
    delete (error as { params?: unknown }).params;
    delete (error as { queryOptions?: unknown }).queryOptions;
  }
  return error;
}
