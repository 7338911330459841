// Called by tools/scripts/demo.mjs: the environment the demo gives each app. Plain CommonJS (pure
// functions but the key file of demoKeyEncryptionKey), so that tools/scripts/scripts.spec.ts (ts-jest, CommonJS) requires them as they run.
// @ts-check
'use strict';

const { randomBytes } = require('node:crypto');
const { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

/** The scope each of the demo's service clients needs (orders releases stock, inventory acknowledges). */
const DEMO_CLIENT_SCOPES = { orders: 'inventory:release', inventory: 'orders:acknowledge' };

/**
 * Fresh service clients for one run: 32-character secrets (the contract's minimum), never written anywhere.
 * @returns {Record<string, { secret: string, scope: string }>}
 */
function demoServiceClients() {
  return Object.fromEntries(
    Object.entries(DEMO_CLIENT_SCOPES).map(([id, scope]) => [
      id,
      { secret: randomBytes(24).toString('base64url'), scope },
    ]),
  );
}

/**
 * The ids and secrets of `AUTH_CLIENTS` entries (`id:secret[:scope scope…]`). Not a validator: auth
 * refuses a malformed value at start with one line naming the variable.
 * @param {string | undefined} value
 * @returns {Map<string, string>}
 */
function authClientSecrets(value) {
  const secrets = new Map();
  for (const entry of authClientEntries(value)) {
    const [id, secret = ''] = entry.split(':', 2);
    secrets.set(id, secret);
  }
  return secrets;
}

/** @param {string | undefined} value */
function authClientEntries(value) {
  return (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/**
 * The caller's `AUTH_CLIENTS` plus the demo's service clients (CONTRACT.md: the demo adds its own
 * clients, never replaces the caller's). A client id the caller already defines keeps the caller's
 * entry, and its app runs with the caller's secret.
 * @param {string | undefined} callerValue the caller's `AUTH_CLIENTS`, if any
 * @param {Record<string, { secret: string, scope: string }>} demoClients
 * @returns {{ authClients: string, secrets: Record<string, string> }} the value for auth, and the
 *   secret each demo client id authenticates with
 */
function mergeAuthClients(callerValue, demoClients) {
  const callerSecrets = authClientSecrets(callerValue);
  const added = Object.entries(demoClients).filter(([id]) => !callerSecrets.has(id));
  const authClients = [
    ...authClientEntries(callerValue),
    ...added.map(([id, client]) => `${id}:${client.secret}:${client.scope}`),
  ].join(',');
  const secrets = Object.fromEntries(
    Object.entries(demoClients).map(([id, client]) => [id, callerSecrets.get(id) ?? client.secret]),
  );
  return { authClients, secrets };
}

// Secrets in the caller's shell that only one app should hold, and variables the demo sets itself.
const CALLER_ONLY_FOR = {
  AUTH_CLIENTS: 'auth',
  AUTH_ADMIN_EMAIL: 'auth',
  AUTH_ADMIN_PASSWORD: 'auth',
  AUTH_KEY_ENCRYPTION_KEY: 'auth',
};

/**
 * The key that seals auth's signing keys in the demo: the caller's `AUTH_KEY_ENCRYPTION_KEY`, else one
 * generated for this `DATA_DIR` on its first run and kept beside the data it protects
 * (`${dataDir}/auth-key-encryption.key`, mode 0600), so a restart can open what it sealed.
 * @param {string} dataDir
 * @param {string | undefined} callerValue
 * @returns {string}
 */
function demoKeyEncryptionKey(dataDir, callerValue) {
  if (callerValue) return callerValue;
  const file = join(dataDir, 'auth-key-encryption.key');
  if (existsSync(file)) {
    // an empty key would not fail: auth would store its signing keys in plain form
    const kept = readFileSync(file, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/.test(kept)) {
      throw new Error(
        `${file} holds no key (64 hexadecimal characters): restore it, or delete it with ${join(dataDir, 'auth')}, whose signing keys it seals`,
      );
    }
    return kept;
  }
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32).toString('hex');
  writeWhole(file, `${key}\n`);
  return key;
}

/**
 * Writes `text` to `file` whole or not at all (a scratch file renamed over it): a write cut short (a
 * full disk, a kill) leaves the file as it was, never an empty or half one a later run reads.
 * @param {string} file
 * @param {string} text
 * @param {number} [mode] of a new file (default 0600: what the demo writes is mostly secret)
 */
function writeWhole(file, text, mode = 0o600) {
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, text, { mode });
  renameSync(partial, file);
}

/**
 * The environment of one app of the demo: the caller's (so `LOG_LEVEL`, `LOG_FORMAT`,
 * `PROPAGATION_MODE`… pass through), the closed bus with this app's own CA copy and NKey seed file
 * only, its own database, and the service clients.
 * @param {string} app `auth`, `orders` or `inventory`
 * @param {{
 *   callerEnv: Record<string, string | undefined>,
 *   port: number,
 *   dataDir: string,
 *   issuer: string,
 *   bus: { url: string, seedFiles: Record<string, string> },
 *   databaseUrl?: string,
 *   admin: { email: string, password: string },
 *   clients: { authClients: string, secrets: Record<string, string> },
 *   keyEncryptionKey: string,
 * }} options
 * @returns {Record<string, string>}
 */
function demoAppEnv(app, options) {
  const seedFile = options.bus.seedFiles[app];
  if (seedFile === undefined) throw new Error(`the bus has no identity for ${app}`);
  /** @type {Record<string, string>} */
  const env = {};
  for (const [key, value] of Object.entries(options.callerEnv)) {
    if (value !== undefined) env[key] = value;
  }
  // a person watches the demo's console: readable lines unless the caller asked for JSON
  if (env.LOG_FORMAT === undefined) env.LOG_FORMAT = 'pretty';
  // the demo's admin password is in the README: this machine only, unless the caller says otherwise
  if (env.LISTEN_ADDRESS === undefined) env.LISTEN_ADDRESS = '127.0.0.1';
  // A DATABASE_URL in the caller's shell would make all three apps share one database, and each app's
  // own URL (with its password) is for that app alone, as DATABASE_URL; client credentials in it would
  // give auth a client identity or the wrong secret to a service; an AUTH_AUDIENCE or AUTH_JWKS_URI
  // left from `nx serve orders` would give both services one audience, or keys not the demo's auth's.
  for (const key of [
    'DATABASE_URL',
    'AUTH_DATABASE_URL',
    'ORDERS_DATABASE_URL',
    'INVENTORY_DATABASE_URL',
    'AUTH_CLIENT_ID',
    'AUTH_CLIENT_SECRET',
    'AUTH_AUDIENCE',
    'AUTH_JWKS_URI',
  ]) {
    delete env[key];
  }
  for (const [key, owner] of Object.entries(CALLER_ONLY_FOR)) if (owner !== app) delete env[key];
  Object.assign(env, {
    PORT: String(options.port),
    NATS_URL: options.bus.url,
    // writeBusMaterial puts a copy of the CA beside each seed: the app reads its own directory only
    NATS_TLS_CA_FILE: join(dirname(seedFile), 'ca.pem'),
    NATS_NKEY_SEED_FILE: seedFile,
    DATA_DIR: options.dataDir,
    AUTH_ISSUER: options.issuer,
  });
  if (options.databaseUrl) env.DATABASE_URL = options.databaseUrl;
  if (app === 'auth') {
    Object.assign(env, {
      AUTH_ADMIN_EMAIL: options.admin.email,
      AUTH_ADMIN_PASSWORD: options.admin.password,
      AUTH_CLIENTS: options.clients.authClients,
      AUTH_KEY_ENCRYPTION_KEY: options.keyEncryptionKey,
    });
  }
  const secret = options.clients.secrets[app];
  if (secret !== undefined) Object.assign(env, { AUTH_CLIENT_ID: app, AUTH_CLIENT_SECRET: secret });
  return env;
}

/** The demo's admin when the caller names none; its password (`relay-demo-admin`) is in the README. */
const DEMO_ADMIN_EMAIL = 'admin@relay.demo';

/**
 * Refuses apps listening beyond this machine with the admin password the README prints: with
 * `LISTEN_ADDRESS` other than a loopback address, `AUTH_ADMIN_PASSWORD` must be the caller's own, and
 * an `AUTH_ADMIN_EMAIL` other than the demo's only on data no earlier run made (`hasEarlierData`: the
 * DATA_DIR's PostgreSQL, or databases of the caller's): auth sets the password of the admin it is
 * named alone, so the demo's admin an earlier run made would keep the README's. Whether one did is
 * not known before the database starts, so a DATA_DIR whose runs all named the caller's admin is
 * refused too: leaving AUTH_ADMIN_EMAIL unset always passes.
 * @param {Record<string, string | undefined>} callerEnv
 * @param {{ hasEarlierData: boolean }} data
 */
function requireOwnAdminPasswordOffLoopback(callerEnv, { hasEarlierData }) {
  const address = callerEnv.LISTEN_ADDRESS;
  if (address === undefined || LOOPBACK.test(address)) return;
  const opens = `LISTEN_ADDRESS=${address} opens the apps to your network`;
  if (callerEnv.AUTH_ADMIN_PASSWORD === undefined) {
    throw new Error(`${opens}, and the demo's admin password is public: set AUTH_ADMIN_PASSWORD too.`);
  }
  // emails compare case-insensitively in auth
  const email = callerEnv.AUTH_ADMIN_EMAIL?.toLowerCase();
  if (email !== undefined && email !== DEMO_ADMIN_EMAIL && hasEarlierData) {
    throw new Error(
      `${opens}, and ${DEMO_ADMIN_EMAIL}, the admin an earlier run may have made, would keep the README's password: ` +
        `leave AUTH_ADMIN_EMAIL unset (AUTH_ADMIN_PASSWORD then becomes that admin's), or start on a fresh DATA_DIR without database URLs of your own.`,
    );
  }
}

// 127.0.0.0/8, ::1 and localhost: this machine alone
const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|\[::1\]|localhost)$/i;

module.exports = {
  DEMO_ADMIN_EMAIL,
  DEMO_CLIENT_SCOPES,
  requireOwnAdminPasswordOffLoopback,
  demoServiceClients,
  authClientSecrets,
  mergeAuthClients,
  demoKeyEncryptionKey,
  demoAppEnv,
  writeWhole,
};
