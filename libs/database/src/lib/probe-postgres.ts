import { Client } from 'pg';

/**
 * Connects once to the PostgreSQL server of `url`, runs `SELECT 1` and disconnects: resolves when the
 * server takes this service's connection, rejects with pg's error when it does not (see
 * `isDatabaseUnavailable` for the failures that pass on their own). Each step is bound by `timeoutMs`:
 * a pooler that accepts the connection but holds the query (PgBouncer with no server yet) is a
 * failure to retry, not a start that waits for ever.
 */
export async function probePostgres(url: string, timeoutMs: number): Promise<void> {
  const client = new Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  });
  // a connection lost after the query would otherwise be an unhandled 'error' event
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}
