/** An error's own kind: `TypeError`, `TimeoutError`; not a plain `Error`, nor pg's protocol errors (all `error`). */
const KIND = /^[A-Z]\w*Error$/;

/**
 * One line for a log about a failure: its kind, its code (pg's SQLSTATE, NATS's `TIMEOUT`; not when
 * the message names it already) and its message. Read by shape, not with `instanceof`: an error from
 * another copy of a library or another realm describes itself the same way.
 *
 * Not a wire shape, unlike the rest of this lib: it lives here because this is the one lib every layer
 * may import, `@relay/auth` included (which adopters install, and which depends on no other Relay lib).
 */
export function describeError(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const { name, code, message } = error as { name?: unknown; code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : String(error);
  const kind = typeof name === 'string' && name !== 'Error' && KIND.test(name) ? `${name}: ` : '';
  // Node's socket errors repeat their code in their message: `connect ECONNREFUSED 127.0.0.1:5432`
  const coded = typeof code === 'string' && code !== '' && !text.includes(code) ? `${code}: ` : '';
  return kind + coded + text;
}
