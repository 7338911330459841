import type { redactOptions } from 'pino';

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
  'client_secret',
  'clientSecret',
  'secret',
  'seed',
  'nkey',
  'privateKey',
  'private_key',
  'email',
  'AUTH_ADMIN_PASSWORD',
  'AUTH_CLIENTS',
  'AUTH_CLIENT_SECRET',
  'AUTH_KEY_ENCRYPTION_KEY',
];

/**
 * How deep below the logged object a redacted field is still found (`err.headers.authorization` is
 * depth 2, `err.config.headers.authorization` depth 3). pino's paths have no recursive wildcard, so
 * each depth is one path per field.
 */
const MAX_DEPTH = 3;

/** pino's `redact` option: every field of {@link REDACTED_FIELDS} at depths 0 to {@link MAX_DEPTH}. */
export function redaction(): redactOptions {
  const paths: string[] = [];
  for (let depth = 0; depth <= MAX_DEPTH; depth += 1) {
    const prefix = '*.'.repeat(depth);
    for (const field of REDACTED_FIELDS) paths.push(`${prefix}${pathSegment(field)}`);
  }
  return { paths, censor: REDACTED };
}

// a name that is not an identifier (`set-cookie`) is written in brackets, as pino's path syntax wants
function pathSegment(field: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(field) ? field : `["${field}"]`;
}
