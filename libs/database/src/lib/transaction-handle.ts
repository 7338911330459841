import type { Queryable } from './database';

/**
 * Runs `work` on a handle to the open transaction `tx` that refuses statements once `work` has
 * settled: one its caller forgot to await would otherwise run after the COMMIT or ROLLBACK, outside
 * the transaction (on a server, on a connection the pool may have handed to another request by then).
 * A statement that failed dooms the transaction: PostgreSQL answers its COMMIT with a ROLLBACK and
 * no error, so work that caught the failure and returned would be told its writes were kept. Then
 * the first failure is thrown, and the caller rolls back.
 */
export async function runOnTransaction<T>(tx: Queryable, work: (tx: Queryable) => Promise<T>): Promise<T> {
  let hasEnded = false;
  let failure: { error: unknown } | undefined;
  const handle: Queryable = {
    query<Row>(sql: string, params?: readonly unknown[]): Promise<Row[]> {
      if (hasEnded) {
        return Promise.reject(
          new Error('A statement on a transaction that has ended; await every statement inside its work'),
        );
      }
      return tx.query<Row>(sql, params).catch((error: unknown) => {
        failure ??= { error };
        throw error;
      });
    },
  };
  try {
    const result = await work(handle);
    if (failure !== undefined) throw failure.error;
    return result;
  } finally {
    hasEnded = true;
  }
}
