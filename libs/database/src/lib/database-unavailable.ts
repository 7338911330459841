import { ServiceUnavailableException } from '@nestjs/common';

import { isSocketFailure } from '@relay/contracts';

// SQLSTATEs of a server that cannot answer now: shutting down, crashed, starting, out of connections,
// or a statement ended by statement_timeout / a transaction by idle_in_transaction_session_timeout
const UNAVAILABLE_SQLSTATES: ReadonlySet<string> = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '57014',
  '25P03',
]);
// pg's and pg-pool's own words for a connection lost or never made, or a server that did not answer
// within a client's query_timeout
const CONNECTION_LOST =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout)/;

/**
 * The database could not answer a call: down, restarting, unreachable, out of connections, or the
 * statement ran past its timeout. A 503 for HTTP callers (and `{status: 503}` over NATS) that Nest
 * does not log with a stack per call, as it would any other error: `PostgresDatabase` logs the outage
 * once, and once more when the database answers again. The cause stays in `cause`.
 */
export class DatabaseUnavailableError extends ServiceUnavailableException {
  constructor(cause: unknown) {
    super('The database is unavailable; retry later', { cause });
  }
}

/** Whether `error` says the database could not answer now (see {@link DatabaseUnavailableError}), not that a statement was wrong. */
export function isDatabaseUnavailable(error: unknown): boolean {
  // read by shape: a socket's error may come from another realm than this module's `Error` (a VM context)
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    // SQLSTATE class 08: connection exception
    // or the socket's own failure (no SQLSTATE): the server is not there
    if (code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code) || isSocketFailure(code)) return true;
  }
  return typeof message === 'string' && CONNECTION_LOST.test(message);
}
