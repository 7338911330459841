// @ts-check
// The closed bus, from one source: the services' NATS permissions, and the material a closed
// nats-server needs (CA, server certificate, one NKey per service, configuration). The demo
// (`npm start`), docker compose (its init service, through cli.js) and the tests all use this file.
// Plain CommonJS so that the demo script and the compose init container run it without a build.
'use strict';

require('reflect-metadata'); // @peculiar/x509 (tsyringe) needs it loaded first
const { webcrypto } = require('node:crypto');
const { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join, resolve } = require('node:path');

const x509 = require('@peculiar/x509');
const { createUser, fromSeed } = require('nkeys.js');

x509.cryptoProvider.set(/** @type {Crypto} */ (webcrypto));

/** The services with a bus identity, in the order the table lists them. */
const SERVICES = /** @type {const} */ (['auth', 'orders', 'inventory']);

/** The JetStream KV bucket holding revocations (`REVOCATION_BUCKET` in @relay/contracts). */
const REVOCATION_BUCKET = 'relay-revocations';
/** The one account of the closed bus. */
const ACCOUNT = 'RELAY';
/**
 * JetStream limits of that account: its streams (the revocation bucket's only) and its consumers. Each
 * running instance of a service holds one (the ordered consumer of its watch; after a reconnect or a
 * gap nats.js makes a new one and the server drops the old one 5 s after its interest goes), so 1000
 * leaves room for hundreds of replicas while a flood of consumers stays bounded.
 */
const JETSTREAM_LIMITS = /** @type {const} */ ({ maxStreams: 1, maxConsumers: 1000 });

/** The reply-inbox prefix a service's identity must use (nats.js `inboxPrefix`). */
function inboxPrefixOf(/** @type {string} */ service) {
  return `_INBOX_${service}`;
}

/**
 * The inbox prefix of a service's revocation feed: the connection of its own on which libs/auth
 * watches the bucket (`revocationInboxPrefix` there), where JetStream's answers and the watch's
 * entries arrive. Under the service's prefix (its identity may subscribe there already), and the one
 * part of it that no other identity may publish to.
 */
function revocationInboxPrefixOf(/** @type {string} */ service) {
  return `${inboxPrefixOf(service)}.revocations`;
}

// What a client that binds to one KV bucket and follows it publishes (measured against nats-server
// 2.9 and nats.js 2.29 with `jetstream({ checkAPI: false })`, which skips `$JS.API.INFO`, and
// `bindOnly`, which skips the stream's info before the watch): the ordered consumer behind
// `kv.watch()` (the extended create subject at first, the bare one when nats.js recreates it after a
// gap), that consumer's flow-control answers, without which the watch stalls for good once flow
// control starts, and the stream's info, which libs/auth's revocation feed asks for every 150 ms to
// know JetStream still serves the bucket. nats.js never deletes the consumer (the server drops it
// after 5 s without interest), so no CONSUMER.DELETE.
function bucketReaderSubjects(/** @type {string} */ bucket) {
  const stream = `KV_${bucket}`;
  return [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.FC.${stream}.>`,
  ];
}

/**
 * What each identity may publish and subscribe (nats-server `permissions`; `publishDeny` wins over
 * `publish`). No identity gets `allow_responses`: it lets a responder publish to whatever reply
 * subject a request names, so a caller could make inventory "answer" into `$KV.relay-revocations.…`,
 * `$JS.API.STREAM.PURGE.…` or `auth.>`. Inventory's answers may go to orders' inbox only, by an
 * explicit allow, and never into the part of it where orders' revocation feed hears JetStream.
 * @param {string} [bucket]
 * @returns {Record<'auth' | 'orders' | 'inventory', { publish: string[], publishDeny: string[], subscribe: string[] }>}
 */
function busPermissions(bucket = REVOCATION_BUCKET) {
  const reader = bucketReaderSubjects(bucket);
  return {
    auth: {
      // the issuer alone creates the bucket and writes or deletes its entries, and announces on auth.>
      publish: ['auth.>', `$KV.${bucket}.>`, `$JS.API.STREAM.CREATE.KV_${bucket}`, ...reader],
      publishDeny: [],
      subscribe: ['auth.>', `${inboxPrefixOf('auth')}.>`],
    },
    orders: {
      publish: ['inventory.reserve', 'inventory.release', 'inventory.stock', ...reader],
      publishDeny: [],
      subscribe: ['inventory.reserved', 'auth.>', `${inboxPrefixOf('orders')}.>`],
    },
    inventory: {
      // answers to orders' requests (the only caller of its request subjects), whatever form their
      // reply subject takes (nats.js's muxed `<prefix>.<id>.<token>`, Nest's or noMux's `<prefix>.<id>`),
      // but never under orders' revocation prefix: JetStream's answers to its feed's requests and the
      // watch's entries arrive there, and nats.js draws their ids from the sequence inventory sees in
      // orders' requests, so a forged "empty bucket" or delete could be aimed at them
      publish: ['inventory.reserved', `${inboxPrefixOf('orders')}.>`, ...reader],
      publishDeny: [`${revocationInboxPrefixOf('orders')}.>`],
      subscribe: [
        'inventory.reserve',
        'inventory.release',
        'inventory.stock',
        'auth.>',
        `${inboxPrefixOf('inventory')}.>`,
      ],
    },
  };
}

/**
 * A self-signed CA (P-256) and a server certificate it signs for `hosts` (DNS names or IP
 * addresses). The CA's private key is never returned: nothing can sign another certificate later.
 * @param {readonly string[]} hosts
 * @param {number} [validDays]
 */
async function createCertificates(hosts, validDays = 825) {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + validDays * 86_400_000);
  const caKeys = /** @type {CryptoKeyPair} */ (
    await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])
  );
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: 'CN=Relay bus CA',
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const serverKeys = /** @type {CryptoKeyPair} */ (
    await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])
  );
  const names = hosts.map((host) =>
    /^[\d.]+$|:/.test(host) ? { type: 'ip', value: host } : { type: 'dns', value: host },
  );
  const server = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${hosts[0]}`,
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(/** @type {x509.JsonGeneralNames} */ (names)),
    ],
  });
  const serverKey = await webcrypto.subtle.exportKey('pkcs8', serverKeys.privateKey);
  return {
    caPem: ca.toString('pem'),
    serverCertPem: server.toString('pem'),
    serverKeyPem: x509.PemConverter.encode(serverKey, 'PRIVATE KEY'),
  };
}

function randomSerial() {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f; // a positive INTEGER
  return Buffer.from(bytes).toString('hex');
}

/** A new NKey user identity: its seed (`SU…`, the secret) and public key (`U…`, in the server config). */
function createIdentity() {
  const user = createUser();
  return {
    seed: new TextDecoder().decode(user.getSeed()),
    publicKey: user.getPublicKey(),
  };
}

/** The public key (`U…`) of an NKey seed. */
function publicKeyOfSeed(/** @type {string} */ seed) {
  return fromSeed(new TextEncoder().encode(seed.trim())).getPublicKey();
}

/**
 * nats-server configuration: JetStream, TLS required for every client, one NKey user per service
 * with its permissions; no anonymous user.
 * @param {{
 *   publicKeys: Record<string, string>,
 *   certFile: string, keyFile: string,
 *   storeDir?: string, listen?: string, monitor?: string, bucket?: string,
 * }} options
 */
function natsServerConfig(options) {
  const permissions = busPermissions(options.bucket);
  const list = (/** @type {readonly string[]} */ subjects) => `[${subjects.map(quote).join(', ')}]`;
  const users = SERVICES.map((service) => {
    const rules = permissions[service];
    return `      # ${service}
      {
        nkey: ${options.publicKeys[service]}
        permissions: {
          publish: { allow: ${list(rules.publish)}${rules.publishDeny.length > 0 ? `, deny: ${list(rules.publishDeny)}` : ''} }
          subscribe: { allow: ${list(rules.subscribe)} }
        }
      }`;
  });
  return `# Generated by libs/nats-bus (closed-bus.js); regenerate it rather than editing it.
${options.listen ? `listen: ${quote(options.listen)}\n` : ''}${options.monitor ? `http: ${quote(options.monitor)}\n` : ''}
jetstream {${options.storeDir ? `\n  store_dir: ${quote(options.storeDir)}` : ''}
}

# TLS for every client: a plain-TCP connection is refused.
tls {
  cert_file: ${quote(options.certFile)}
  key_file: ${quote(options.keyFile)}
  # a loaded machine can take seconds to handshake; past this the server drops the client, which
  # nats.js only notices at its own 20 s connect timeout
  timeout: 10
}

# One account for the three services, one NKey identity per service; no anonymous or shared user.
accounts {
  ${ACCOUNT}: {
    # what JetStream may hold for them: the revocation stream alone, and a bounded number of consumers
    # (a reader's key may create them, one per watch, and could otherwise flood the server with them)
    jetstream: { max_streams: ${JETSTREAM_LIMITS.maxStreams}, max_consumers: ${JETSTREAM_LIMITS.maxConsumers} }
    users: [
${users.join('\n')}
    ]
  }
}
`;
}

function quote(/** @type {string} */ value) {
  return JSON.stringify(value);
}

/**
 * Writes a closed bus's material under `outDir`: `server/` (ca.pem, server-cert.pem, server-key.pem,
 * nats-server.conf) for nats-server, and `<service>/` (ca.pem, <service>.nk) for each service, so each
 * service can be given its own directory. Secrets are mode 0600.
 * @param {string} outDir
 * @param {{ hosts?: readonly string[], storeDir?: string, listen?: string, monitor?: string,
 *   configDir?: string, owner?: { uid: number, gid: number } }} [options]
 */
async function writeBusMaterial(outDir, options = {}) {
  const root = resolve(outDir);
  const hosts = options.hosts ?? ['localhost', '127.0.0.1', '::1'];
  const { caPem, serverCertPem, serverKeyPem } = await createCertificates(hosts);
  const identities = Object.fromEntries(SERVICES.map((service) => [service, createIdentity()]));
  const publicKeys = Object.fromEntries(SERVICES.map((service) => [service, identities[service].publicKey]));
  const write = fileWriter(options.owner);
  const serverDir = join(root, 'server');
  mkdirSync(serverDir, { recursive: true });
  write(join(serverDir, 'ca.pem'), caPem);
  write(join(serverDir, 'server-cert.pem'), serverCertPem);
  write(join(serverDir, 'server-key.pem'), serverKeyPem, true);
  const configFile = writeServerConfig(root, publicKeys, options);
  /** @type {Record<string, string>} */
  const seedFiles = {};
  for (const service of SERVICES) {
    const dir = join(root, service);
    mkdirSync(dir, { recursive: true });
    if (options.owner) chownSync(dir, options.owner.uid, options.owner.gid);
    write(join(dir, 'ca.pem'), caPem);
    seedFiles[service] = seedFileOf(root, service);
    write(seedFiles[service], `${identities[service].seed}\n`, true);
  }
  return { configFile, caFile: join(serverDir, 'ca.pem'), seedFiles, publicKeys };
}

/**
 * Renders `server/nats-server.conf` of existing material again from its seeds' public keys and today's
 * permission table, keeping every key and certificate: compose's init does it on each start, so a
 * deployment that keeps its identities still gets the current table and limits.
 * @param {string} outDir
 * @param {{ storeDir?: string, listen?: string, monitor?: string, configDir?: string,
 *   owner?: { uid: number, gid: number } }} [options]
 * @returns {string} the config file
 */
function renderBusConfig(outDir, options = {}) {
  const root = resolve(outDir);
  const publicKeys = Object.fromEntries(
    SERVICES.map((service) => [
      service,
      publicKeyOfSeed(readFileSync(seedFileOf(root, service), 'utf8').trim()),
    ]),
  );
  return writeServerConfig(root, publicKeys, options);
}

/**
 * `server/nats-server.conf` under `root` for `publicKeys`.
 * @param {string} root
 * @param {Record<string, string>} publicKeys
 * @param {{ storeDir?: string, listen?: string, monitor?: string, configDir?: string,
 *   owner?: { uid: number, gid: number } }} options
 */
function writeServerConfig(root, publicKeys, options) {
  // paths written into the server config: where the server will see them (compose mounts elsewhere)
  const configRoot = options.configDir ?? root;
  const configFile = join(root, 'server', 'nats-server.conf');
  fileWriter(options.owner)(
    configFile,
    natsServerConfig({
      publicKeys,
      certFile: join(configRoot, 'server', 'server-cert.pem'),
      keyFile: join(configRoot, 'server', 'server-key.pem'),
      storeDir: options.storeDir,
      listen: options.listen,
      monitor: options.monitor,
    }),
  );
  return configFile;
}

/** Where the material under `root` keeps `service`'s NKey seed. */
function seedFileOf(/** @type {string} */ root, /** @type {string} */ service) {
  return join(root, service, `${service}.nk`);
}

/** Writes a file with its mode (0600 for a secret, else 0644) and, given one, its owner. */
function fileWriter(/** @type {{ uid: number, gid: number } | undefined} */ owner) {
  return (/** @type {string} */ file, /** @type {string} */ text, isSecret = false) => {
    writeFileSync(file, text, { mode: isSecret ? 0o600 : 0o644 });
    chmodSync(file, isSecret ? 0o600 : 0o644);
    if (owner) chownSync(file, owner.uid, owner.gid);
  };
}

/** Whether `writeBusMaterial(outDir)` has run there (compose's init keeps what a volume holds). */
function hasBusMaterial(/** @type {string} */ outDir) {
  const root = resolve(outDir);
  return [
    join(root, 'server', 'nats-server.conf'),
    ...SERVICES.map((service) => seedFileOf(root, service)),
  ].every((file) => existsSync(file));
}

/**
 * What a client of the bus needs (`${DATA_DIR}/nats/connection.json` of the demo).
 * @param {string} url
 * @param {{ caFile: string, seedFiles: Record<string, string> }} material
 */
function connectionInfo(url, material) {
  return {
    url,
    caFile: resolve(material.caFile),
    seedFiles: Object.fromEntries(SERVICES.map((service) => [service, resolve(material.seedFiles[service])])),
    inboxPrefixes: Object.fromEntries(SERVICES.map((service) => [service, inboxPrefixOf(service)])),
  };
}

module.exports = {
  SERVICES,
  REVOCATION_BUCKET,
  JETSTREAM_LIMITS,
  inboxPrefixOf,
  revocationInboxPrefixOf,
  busPermissions,
  natsServerConfig,
  writeBusMaterial,
  renderBusConfig,
  hasBusMaterial,
  connectionInfo,
  publicKeyOfSeed,
};
