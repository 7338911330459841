import type { Queryable } from './database';

/**
 * Runs `work` on a handle to the open transaction `tx` that refuses statements once `work` has
 * settled: one its caller forgot to await would otherwise run after the COMMIT or ROLLBACK, outside
 * the transaction (on a server, on a connection the pool may have handed to another request by then).
 */
export async function runOnTransaction<T>(tx: Queryable, work: (tx: Queryable) => Promise<T>): Promise<T> {
  let hasEnded = false;
  const handle: Queryable = {
    query<Row>(sql: string, params?: readonly unknown[]): Promise<Row[]> {
      if (hasEnded) {
        return Promise.reject(
          new Error('A statement on a transaction that has ended; await every statement inside its work'),
        );
      }
      return tx.query<Row>(sql, params);
    },
  };
  try {
    return await work(handle);
  } finally {
    hasEnded = true;
  }
}
