import type { Migration } from '@relay/database';

// One statement per migration: PGlite runs each through the extended protocol.
/** The auth app's schema; plain PostgreSQL that runs on PGlite and on a server alike. */
export const AUTH_MIGRATIONS: Migration[] = [
  {
    id: '0001-users',
    sql: `CREATE TABLE users (
            id uuid PRIMARY KEY,
            email text NOT NULL,
            password_hash text NOT NULL,
            roles text[] NOT NULL,
            blocked_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now()
          )`,
  },
  {
    // emails are stored normalised (lower case), so this makes them unique case-insensitively
    id: '0002-users-email-key',
    sql: 'CREATE UNIQUE INDEX users_email_key ON users (email)',
  },
  {
    id: '0003-signing-keys',
    sql: `CREATE TABLE signing_keys (
            kid text PRIMARY KEY,
            alg text NOT NULL,
            public_jwk jsonb NOT NULL,
            private_jwk text NOT NULL,
            is_encrypted boolean NOT NULL,
            is_active boolean NOT NULL,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            retire_at timestamptz
          )`,
  },
  {
    // at most one key signs at a time
    id: '0004-signing-keys-one-active',
    sql: 'CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (is_active) WHERE is_active',
  },
  {
    id: '0005-refresh-tokens',
    sql: `CREATE TABLE refresh_tokens (
            token_hash text PRIMARY KEY,
            session_id uuid NOT NULL,
            user_id uuid NOT NULL REFERENCES users (id),
            client_id text NOT NULL,
            expires_at timestamptz NOT NULL,
            spent_at timestamptz,
            revoked_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now()
          )`,
  },
  {
    id: '0006-refresh-tokens-session',
    sql: 'CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id)',
  },
  {
    id: '0007-refresh-tokens-user',
    sql: 'CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id)',
  },
  {
    // one row per failed login per throttle key; key_hash is the key's SHA-256, never an email or IP
    id: '0008-login-failures',
    sql: `CREATE TABLE login_failures (
            key_hash text NOT NULL,
            failed_at timestamptz NOT NULL
          )`,
  },
  {
    // counting a key's failures within its window, newest first
    id: '0009-login-failures-key',
    sql: 'CREATE INDEX login_failures_key ON login_failures (key_hash, failed_at)',
  },
  {
    // pruning the rows older than every window
    id: '0010-login-failures-failed-at',
    sql: 'CREATE INDEX login_failures_failed_at ON login_failures (failed_at)',
  },
  {
    // a login's own rows, counted before its password is checked and withdrawn when it succeeds
    id: '0011-login-failures-id',
    sql: 'ALTER TABLE login_failures ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
  },
  {
    // revocations written with the change they follow from, published to the bucket until acknowledged
    id: '0012-revocation-outbox',
    sql: `CREATE TABLE revocation_outbox (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            kind text NOT NULL,
            entry_id text NOT NULL,
            at bigint NOT NULL
          )`,
  },
  {
    // the latest ending of every session of the user (epoch seconds, the database's clock): the
    // not-before verifiers hold for the subject, which a later session's tokens are dated after
    id: '0013-users-sessions-not-before',
    sql: 'ALTER TABLE users ADD COLUMN sessions_not_before bigint',
  },
];
