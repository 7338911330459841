/** What a redacted value is replaced by. */
export const REDACTED = '[redacted]';

/**
 * Field names whose values never reach a log line, wherever they sit in a logged object: credentials
 * (headers, passwords, tokens, client secrets, NKey seeds, keys), the variables that carry them, and
 * the caller's email (personal data). Log lines name callers by `sub` and `client_id` instead.
 */
export const REDACTED_FIELDS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'password',
  'current_password',
  'new_password',
  'currentPassword',
  'newPassword',
  'password_hash',
  'passwordHash',
  'token',
  'access_token',
  'accessToken',
  'refresh_token',
  'refreshToken',
  'id_token',
  'subject_token',
  'actor_token',
  'idToken',
  'subjectToken',
  'actorToken',
  'client_secret',
  'clientSecret',
  'client-secret',
  'secret',
  'credentials',
  'x-api-key',
  'api_key',
  'apiKey',
  'passphrase',
  'pwd',
  'seed',
  'nkey',
  'privateKey',
  'private_key',
  'email',
  // a database error's bound values (PGlite's `params`) and the row it quotes (PostgreSQL's `detail`:
  // "Failing row contains (…)", "Key (email)=(…) already exists"): a hash, an email, a key
  'params',
  'detail',
  'AUTH_ADMIN_PASSWORD',
  'AUTH_CLIENTS',
  'AUTH_CLIENT_SECRET',
  'AUTH_KEY_ENCRYPTION_KEY',
  'DATABASE_URL',
  'AUTH_DATABASE_URL',
  'ORDERS_DATABASE_URL',
  'INVENTORY_DATABASE_URL',
];

// compared without case: an outgoing `Authorization` header or a `Password` field is caught too
const SECRET_FIELDS: ReadonlySet<string> = new Set(REDACTED_FIELDS.map((field) => field.toLowerCase()));

/** Below this many levels an object is not walked: it is replaced whole, so nothing leaks by depth. */
const MAX_DEPTH = 8;

/**
 * pino's `formatters.log`: the logged object with every field of {@link REDACTED_FIELDS}, at any
 * depth (an error's `config.headers.authorization` too), and in a raw header list (Node's
 * `rawHeaders`: name, value, …) the value after such a name, replaced by {@link REDACTED}. Objects with
 * nothing to redact are returned as they are; the others are copied, never changed in place (a
 * logged error or request stays intact for its owner).
 *
 * pino's own `redact` option (fast-redact) costs about 50 µs a line per level of wildcard paths:
 * three levels of these names made a log line 40 times dearer than the line itself.
 */
export function redactSecrets(value: Record<string, unknown>): Record<string, unknown> {
  return redactValue(value, 0) as Record<string, unknown>;
}

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth > MAX_DEPTH) return REDACTED;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item: unknown, index) => {
      const redacted = isRawHeaderValueOfSecret(value, index) ? REDACTED : redactValue(item, depth + 1);
      if (redacted === item) return;
      copy ??= [...value];
      copy[index] = redacted;
    });
    return copy ?? value;
  }
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key of keysOf(record)) {
    const field = record[key];
    const redacted = SECRET_FIELDS.has(key.toLowerCase()) ? REDACTED : redactValue(field, depth + 1);
    if (redacted === field) continue;
    copy ??= shallowCopy(record);
    copy[key] = redacted;
  }
  return copy ?? value;
}

// Node's `rawHeaders` (name, value, name, value, …): the value after a credential header's name
function isRawHeaderValueOfSecret(list: unknown[], index: number): boolean {
  const name = list[index - 1];
  return index % 2 === 1 && typeof name === 'string' && SECRET_FIELDS.has(name.toLowerCase());
}

// an AggregateError's `errors` is not enumerable, yet pino's err serializer prints them
function keysOf(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record);
  return record instanceof AggregateError && !keys.includes('errors') ? [...keys, 'errors'] : keys;
}

// an error stays an error (pino's err serializer reads its type, message and stack)
function shallowCopy(record: Record<string, unknown>): Record<string, unknown> {
  if (!(record instanceof Error)) return { ...record };
  const copy = Object.assign(Object.create(Object.getPrototypeOf(record) as object) as Error, record);
  copy.message = record.message;
  copy.stack = record.stack;
  return copy as unknown as Record<string, unknown>;
}
