// Node's codes for a socket that could not reach its server, or lost it: the server is not there, or
// not yet (starting, restarting, its name not in DNS yet), rather than refusing the caller
const SOCKET_FAILURES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/**
 * Whether `code` (an error's `code`) says the socket could not reach its server, or lost it. Here for
 * the reason `describeError` is: `@relay/auth` (NATS) and `@relay/database` (PostgreSQL) share it.
 */
export function isSocketFailure(code: unknown): boolean {
  return typeof code === 'string' && SOCKET_FAILURES.has(code);
}
