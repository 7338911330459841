import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { promisify } from 'node:util';

import {
  connect,
  delay,
  ErrorCode,
  Events,
  headers as createHeaders,
  type KV,
  type KvEntry,
  type Msg,
  type NatsConnection,
  nkeyAuthenticator,
  nkeys,
  type Subscription,
} from 'nats';

import { REVOCATION_RETENTION_SECONDS } from '@relay/contracts';
import {
  type BusService,
  busPermissions,
  connectionInfo,
  hasBusMaterial,
  inboxPrefixOf,
  revocationInboxPrefixOf,
  JETSTREAM_LIMITS,
  natsServerConfig,
  publicKeyOfSeed,
  REVOCATION_BUCKET,
  SERVICES,
  writeBusMaterial,
} from '@relay/nats-bus';

import { type NatsServer, startNatsServer } from './nats-server';
import { createRevocationBucket } from './revocation-bucket';

// The closed bus of @relay/nats-bus, as startNatsServer({ closed: true }) runs it (the spec lives
// here, not in nats-bus, because this lib starts the server and nats-bus may not depend on it).
const NATS_BUS_DIR = join(__dirname, '..', '..', '..', 'nats-bus');

// ---- the table, and nats-server's wildcard rules over it ----------------------------------------

const TABLE = busPermissions();
/** Keys and certificate paths that only have to be rendered, for the tests that read the config as text. */
const PLACEHOLDER_CONFIG_OPTIONS = {
  publicKeys: { auth: 'UAUTH', orders: 'UORDERS', inventory: 'UINVENTORY' },
  certFile: '/certs/server-cert.pem',
  keyFile: '/certs/server-key.pem',
};
const STREAM = `KV_${REVOCATION_BUCKET}`;
const KV_ENTRY = `$KV.${REVOCATION_BUCKET}.x`;

/**
 * Whether the allow-list entry `pattern` covers `subject` as nats-server decides it: `*` is one token,
 * `>` one or more trailing tokens. `subject` may hold wildcards itself (a subscription): it is covered
 * only if everything it could match is, so `auth.>` does not cover `>`.
 */
function covers(pattern: string, subject: string): boolean {
  const allowed = pattern.split('.');
  const asked = subject.split('.');
  for (const [index, token] of allowed.entries()) {
    if (token === '>') return asked.length > index;
    if (index >= asked.length) return false;
    if (token === '*' ? asked[index] === '>' : token !== asked[index]) return false;
  }
  return allowed.length === asked.length;
}

function isAllowed(allowList: readonly string[], subject: string): boolean {
  return allowList.some((pattern) => covers(pattern, subject));
}

/** Whether `service` may publish `subject`: allowed, and not denied (nats-server: deny wins). */
function mayPublish(service: BusService, subject: string): boolean {
  const { publish, publishDeny } = TABLE[service];
  return isAllowed(publish, subject) && !publishDeny.some((pattern) => overlaps(pattern, subject));
}

/** Whether some subject matches both `pattern` and `subject` (either may hold wildcards). */
function overlaps(pattern: string, subject: string): boolean {
  return covers(pattern, subject) || covers(subject, pattern);
}

/** The literal subject a publish to `subject` uses (a client cannot publish to a wildcard). */
function literal(subject: string): string {
  return subject.replace(/(^|\.)[*>](?=\.|$)/g, '$1x');
}

/** One publish the table test tries: a literal subject, and the `KV-Operation` of a KV delete or purge. */
interface Probe {
  subject: string;
  kvOperation?: 'DEL' | 'PURGE';
}

const SENSITIVE_SUBJECTS = [
  '>',
  '_INBOX.>',
  ...SERVICES.map((service) => `${inboxPrefixOf(service)}.>`),
  ...SERVICES.map((service) => `${revocationInboxPrefixOf(service)}.>`),
  'auth.revoked',
  'auth.keys.rotated',
  'auth.>',
  KV_ENTRY,
  `$JS.API.STREAM.DELETE.${STREAM}`,
  `$JS.API.STREAM.PURGE.${STREAM}`,
  `$JS.API.STREAM.CREATE.${STREAM}`,
  `$JS.API.STREAM.INFO.${STREAM}`,
  '$JS.API.INFO',
  'inventory.reserve',
  'inventory.release',
  'inventory.stock',
  'inventory.reserved',
];

const PUBLISH_PROBES: readonly Probe[] = [
  ...SENSITIVE_SUBJECTS.map((subject) => ({ subject: literal(subject) })),
  { subject: KV_ENTRY, kvOperation: 'DEL' },
  { subject: KV_ENTRY, kvOperation: 'PURGE' },
];

function describeProbe(probe: Probe): string {
  return probe.kvOperation === undefined ? probe.subject : `${probe.subject} (a KV ${probe.kvOperation})`;
}

/** [identity, probe name, probe] for every sensitive publish the table does not allow that identity. */
const DENIED_PUBLISHES = SERVICES.flatMap((service) =>
  PUBLISH_PROBES.filter((probe) => !mayPublish(service, probe.subject)).map(
    (probe) => [service, describeProbe(probe), probe] as const,
  ),
);

/** [identity, subject] for every sensitive subscription the table does not allow that identity. */
const DENIED_SUBSCRIPTIONS = SERVICES.flatMap((service) =>
  SENSITIVE_SUBJECTS.filter((subject) => !isAllowed(TABLE[service].subscribe, subject)).map(
    (subject) => [service, subject] as const,
  ),
);

/** The request subjects orders calls and inventory answers. */
const REQUEST_SUBJECTS = TABLE.orders.publish.filter(
  (subject) => !subject.startsWith('$') && isAllowed(TABLE.inventory.subscribe, subject),
);

// ---- bus helpers --------------------------------------------------------------------------------

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const decode = (data: Uint8Array): string => new TextDecoder().decode(data);

type Connections = Record<BusService, NatsConnection>;

// One at a time: on a loaded machine, concurrent TLS handshakes can outlast the server's TLS timeout.
async function connectAll(server: NatsServer): Promise<Connections> {
  const connections: Partial<Connections> = {};
  for (const service of SERVICES) connections[service] = await connect(server.connectionOptions(service));
  return connections as Connections;
}

async function closeAll(connections: Partial<Connections>): Promise<void> {
  await Promise.all(Object.values(connections).map((connection) => connection.close()));
}

/** What the revocation stream holds, read by auth (the only identity that could change it). */
async function streamState(
  auth: NatsConnection,
): Promise<{ created: string; messages: number; lastSeq: number }> {
  const info = await (await auth.jetstreamManager({ checkAPI: false })).streams.info(STREAM);
  return { created: info.created, messages: info.state.messages, lastSeq: info.state.last_seq };
}

/** The permission errors a connection reports through `nc.status()`. */
class Violations {
  private seen: { operation: string; subject: string }[] = [];

  constructor(connection: NatsConnection) {
    void this.follow(connection);
  }

  clear(): void {
    this.seen = [];
  }

  /** Whether the server reported `operation` (`publish` | `subscription`) on `subject` within 2 s. */
  async reported(operation: 'publish' | 'subscription', subject: string): Promise<boolean> {
    const deadline = Date.now() + 2000;
    while (!this.seen.some((seen) => seen.operation === operation && seen.subject === subject)) {
      if (Date.now() > deadline) return false;
      await delay(10);
    }
    return true;
  }

  private async follow(connection: NatsConnection): Promise<void> {
    for await (const status of connection.status()) {
      if (status.type === Events.Error && status.data === ErrorCode.PermissionsViolation) {
        if (status.permissionContext !== undefined) this.seen.push(status.permissionContext);
      }
    }
  }
}

/** Subscribes `subject` with `connection`, recording what arrives and the error a refusal brings. */
function record(connection: NatsConnection, subject: string, queue?: string) {
  const messages: string[] = [];
  const errors: { code: string }[] = [];
  const subscription = connection.subscribe(subject, {
    queue,
    callback: (error, message) => (error === null ? messages.push(message.subject) : errors.push(error)),
  });
  return { messages, errors, subscription };
}

/**
 * Publishes `probe` as the identity of `connection` and flushes. A JetStream subject (`$JS`, `$KV`)
 * is sent as a request: were it allowed, JetStream would answer it. Resolves with the request's error.
 */
async function attemptPublish(connection: NatsConnection, probe: Probe): Promise<unknown> {
  const headers = createHeaders();
  if (probe.kvOperation !== undefined) headers.set('KV-Operation', probe.kvOperation);
  if (probe.kvOperation === 'PURGE') headers.set('Nats-Rollup', 'sub');
  if (!probe.subject.startsWith('$')) {
    connection.publish(probe.subject, encode('{}'), { headers });
    await connection.flush();
    return undefined;
  }
  return connection.request(probe.subject, encode('{}'), { headers, timeout: 2000 }).then(
    (reply) => new Error(`JetStream answered: ${decode(reply.data)}`),
    (error: unknown) => error,
  );
}

/**
 * Makes every message the table allows that a subscription to `pattern` would see: each identity
 * allowed to publish a sensitive subject the pattern covers publishes it, and each identity whose
 * inbox the pattern covers gets a JetStream reply there.
 */
async function sendTrafficCoveredBy(connections: Connections, pattern: string): Promise<void> {
  for (const service of SERVICES) {
    const connection = connections[service];
    for (const subject of new Set(SENSITIVE_SUBJECTS.map(literal))) {
      if (covers(pattern, subject) && mayPublish(service, subject)) {
        connection.publish(subject, encode('{}'));
      }
    }
    if (covers(pattern, `${inboxPrefixOf(service)}.x`)) {
      // JetStream answers a consumer create (here an empty, refused one) into the caller's inbox
      await connection.request(`$JS.API.CONSUMER.CREATE.${STREAM}`, encode('{}'), { timeout: 2000 });
    }
    await connection.flush();
  }
}

/**
 * Connects to `port` and speaks NATS in plain text after the server's INFO (CONNECT, PING), as a
 * client would that ignores `tls_required`. Resolves, once the server has closed the connection, with
 * the INFO line and whatever came after it (a PONG would mean the server accepted the client).
 */
async function speakPlainText(port: number): Promise<{ info: string; rest: string }> {
  const socket = createConnection(port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => {
    if (received === '') socket.write('CONNECT {"verbose":true,"pedantic":false}\r\nPING\r\n');
    received += chunk.toString();
  });
  await once(socket, 'close');
  const [info, ...rest] = received.split('\r\n');
  return { info, rest: rest.join('\r\n') };
}

/** The revocation bucket bound only, as orders and inventory open it (no stream info, no create). */
function bindRevocationBucket(connection: NatsConnection): Promise<KV> {
  return connection.jetstream({ checkAPI: false }).views.kv(REVOCATION_BUCKET, { bindOnly: true });
}

/** Follows the whole bucket with `kv.watch`, as the revocation listeners do. */
async function followBucket(kv: KV) {
  const entries: Pick<KvEntry, 'key' | 'operation'>[] = [];
  let markReplayed = (): void => undefined;
  const replayed = new Promise<void>((resolve) => (markReplayed = resolve));
  const watch = await kv.watch({ key: '>', initializedFn: () => markReplayed() });
  void (async () => {
    for await (const entry of watch) entries.push({ key: entry.key, operation: entry.operation });
  })();
  // nats.js keeps the watch's JetStream subscription on the iterator, unexported
  const { _data: subscription } = watch as unknown as { _data: Subscription };
  return { entries, replayed, deliverSubject: subscription.getSubject(), stop: () => watch.stop() };
}

/** Waits up to 5 s for `condition`; then returns it once more for the assertion to show. */
async function eventually<T>(read: () => T, condition: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5000;
  while (!condition(read()) && Date.now() < deadline) await delay(10);
  return read();
}

// ---- the table test -----------------------------------------------------------------------------

describe('the permission table as nats-server reads it', () => {
  it.each([
    ['auth.>', 'auth.revoked', true],
    ['auth.>', 'auth.>', true],
    ['auth.>', 'auth', false],
    ['auth.>', '>', false],
    ['_INBOX_orders.>', '_INBOX.>', false],
    ['inventory.reserve', 'inventory.reserved', false],
    ['a.*.c', 'a.b.c', true],
    ['a.*.c', 'a.>', false],
  ])('%s covers %s: %s', (pattern, subject, expected) => {
    expect(covers(pattern, subject)).toBe(expected);
  });

  it('keeps the contract’s rules (CONTRACT.md "The bus is closed", SECURITY.md N6/N7)', () => {
    const publishers = (subject: string) => SERVICES.filter((service) => mayPublish(service, subject));
    const subscribers = (subject: string) =>
      SERVICES.filter((service) => isAllowed(TABLE[service].subscribe, subject));

    for (const subject of [
      'auth.revoked',
      'auth.keys.rotated',
      KV_ENTRY,
      `$JS.API.STREAM.CREATE.${STREAM}`,
    ]) {
      expect({ subject, publishers: publishers(subject) }).toEqual({ subject, publishers: ['auth'] });
    }
    // every reader asks JetStream for the stream's info: the revocation feed's probe (read-only)
    expect(publishers(`$JS.API.STREAM.INFO.${STREAM}`)).toEqual(SERVICES);
    for (const subject of [
      `$JS.API.STREAM.DELETE.${STREAM}`,
      `$JS.API.STREAM.PURGE.${STREAM}`,
      '$JS.API.INFO',
    ]) {
      expect({ subject, publishers: publishers(subject) }).toEqual({ subject, publishers: [] });
    }
    expect([subscribers('>'), subscribers('_INBOX.>')]).toEqual([[], []]);
    for (const service of SERVICES) expect(subscribers(`${inboxPrefixOf(service)}.>`)).toEqual([service]);
    expect(REQUEST_SUBJECTS).toEqual(['inventory.reserve', 'inventory.release', 'inventory.stock']);
    for (const subject of REQUEST_SUBJECTS) {
      expect({ subject, publishers: publishers(subject), subscribers: subscribers(subject) }).toEqual({
        subject,
        publishers: ['orders'],
        subscribers: ['inventory'],
      });
    }
    // answers go by an explicit allow into the caller's inbox, never by allow_responses (any reply
    // subject), and never into its revocation feed's part of it: see the next describes
    expect(TABLE.inventory.publish.filter((subject) => subject.startsWith('_INBOX'))).toEqual([
      `${inboxPrefixOf('orders')}.>`,
    ]);
    // the prefix libs/auth's revocation feed puts first in its inboxes (its spec pins the same name)
    expect(revocationInboxPrefixOf('orders')).toBe('_INBOX_orders.revocations');
    expect(publishers(`${revocationInboxPrefixOf('orders')}.x.y`)).toEqual([]);
    expect(publishers(`${revocationInboxPrefixOf('orders')}.x`)).toEqual([]);
    expect(SERVICES.map((service) => TABLE[service].publishDeny)).toEqual([
      [],
      [],
      [`${revocationInboxPrefixOf('orders')}.>`],
    ]);
  });

  it('is the table README.md shows', () => {
    const cell = (subjects: readonly string[]) => subjects.map((subject) => `\`${subject}\``).join('<br>');
    const rows = SERVICES.map((service) => {
      const { publish, publishDeny, subscribe } = TABLE[service];
      const denied = publishDeny.map((subject) => `<br>not \`${subject}\``).join('');
      return `| ${service} | ${cell(publish)}${denied} | ${cell(subscribe)} |`;
    });

    const readme = readFileSync(join(NATS_BUS_DIR, 'README.md'), 'utf8');

    expect(readme).toContain(['| identity | publish | subscribe |', '|---|---|---|', ...rows].join('\n'));
  });
});

describe('the closed bus refuses what the table does not allow', () => {
  let server: NatsServer;
  let connections: Connections;
  let violations: Record<BusService, Violations>;

  beforeAll(async () => {
    server = await startNatsServer({ closed: true });
    connections = await connectAll(server);
    violations = {
      auth: new Violations(connections.auth),
      orders: new Violations(connections.orders),
      inventory: new Violations(connections.inventory),
    };
    await (await createRevocationBucket(connections.auth)).put('x', encode('{"at":0}'));
  });

  afterAll(async () => {
    if (connections !== undefined) await closeAll(connections);
    await server?.stop();
  });

  it.each(DENIED_PUBLISHES)('%s may not publish %s', async (service, _name, probe) => {
    // Arrange: every identity allowed to subscribe there listens
    const observers = SERVICES.filter((other) => isAllowed(TABLE[other].subscribe, probe.subject)).map(
      (other) => ({ connection: connections[other], ...record(connections[other], probe.subject) }),
    );
    await Promise.all(observers.map(({ connection }) => connection.flush()));
    const before = await streamState(connections.auth);
    violations[service].clear();

    // Act
    const requestError = await attemptPublish(connections[service], probe);
    await Promise.all(observers.map(({ connection }) => connection.flush()));

    // Assert
    expect(await violations[service].reported('publish', probe.subject)).toBe(true);
    if (probe.subject.startsWith('$')) {
      expect(requestError).toMatchObject({ code: ErrorCode.PermissionsViolation });
    }
    expect(observers.flatMap(({ messages }) => messages)).toEqual([]);
    expect(await streamState(connections.auth)).toEqual(before);
    observers.forEach(({ subscription }) => subscription.unsubscribe());
  });

  it.each(DENIED_SUBSCRIPTIONS)('%s may not subscribe %s', async (service, subject) => {
    // Arrange
    violations[service].clear();

    // Act
    const { messages, errors, subscription } = record(connections[service], subject);
    await connections[service].flush();
    await sendTrafficCoveredBy(connections, subject);
    await connections[service].flush();

    // Assert
    expect(await violations[service].reported('subscription', subject)).toBe(true);
    expect(errors).toEqual([expect.objectContaining({ code: ErrorCode.PermissionsViolation })]);
    expect(subscription.isClosed()).toBe(true);
    expect(messages).toEqual([]);
  });
});

describe('the closed bus allows what the services need', () => {
  let server: NatsServer;
  let connections: Connections;

  beforeAll(async () => {
    server = await startNatsServer({ closed: true });
    connections = await connectAll(server);
  });

  afterAll(async () => {
    if (connections !== undefined) await closeAll(connections);
    await server?.stop();
  });

  it('lets auth alone create the revocation bucket, to which orders and inventory then bind', async () => {
    const refused = {
      status: 'rejected',
      reason: expect.objectContaining({ code: ErrorCode.PermissionsViolation }),
    };
    const readersBefore = await Promise.allSettled([
      createRevocationBucket(connections.orders),
      createRevocationBucket(connections.inventory),
    ]);

    const kv = await createRevocationBucket(connections.auth);
    const status = await kv.status();
    const readersAfter = await Promise.allSettled(
      (['orders', 'inventory'] as const).map(async (service) => {
        const { replayed, stop } = await followBucket(await bindRevocationBucket(connections[service]));
        await replayed;
        stop();
      }),
    );
    // opening by default reads the stream's info first (every reader may: the revocation feed's probe)
    // and, the stream there, creates nothing
    const openedByDefaultAfter = await Promise.allSettled([
      createRevocationBucket(connections.orders),
      createRevocationBucket(connections.inventory),
    ]);

    expect(readersBefore).toEqual([refused, refused]);
    expect({ history: status.history, ttl: status.ttl }).toEqual({
      history: 1,
      ttl: REVOCATION_RETENTION_SECONDS * 1000,
    });
    expect(readersAfter.map(({ status: settled }) => settled)).toEqual(['fulfilled', 'fulfilled']);
    expect(openedByDefaultAfter.map(({ status: settled }) => settled)).toEqual(['fulfilled', 'fulfilled']);
  });

  it('lets auth put and delete entries, which orders and inventory replay and then follow live', async () => {
    const writer = await createRevocationBucket(connections.auth);
    await writer.put('jti-kept', encode('{"at":1}'));
    await writer.put('jti-deleted', encode('{"at":2}'));
    await writer.delete('jti-deleted');
    const readers = await Promise.all(
      (['orders', 'inventory'] as const).map(async (service) =>
        followBucket(await bindRevocationBucket(connections[service])),
      ),
    );

    await Promise.all(readers.map(({ replayed }) => replayed));
    const replayed = readers.map(({ entries }) => [...entries]);
    await writer.put('jti-live', encode('{"at":3}'));
    const followed = await Promise.all(
      readers.map(({ entries }) =>
        eventually(
          () => entries,
          (seen) => seen.length > replayed[0].length,
        ),
      ),
    );
    readers.forEach(({ stop }) => stop());

    const before = [
      { key: 'jti-kept', operation: 'PUT' },
      { key: 'jti-deleted', operation: 'DEL' },
    ];
    expect(replayed).toEqual([before, before]);
    expect(followed).toEqual([
      [...before, { key: 'jti-live', operation: 'PUT' }],
      [...before, { key: 'jti-live', operation: 'PUT' }],
    ]);
  });

  // nats.js's muxed request replies on `<prefix>.<id>.<token>`; Nest's ClientProxy.send() and noMux
  // on `<prefix>.<id>`: the contract's wire format, whichever client a caller of inventory uses
  it.each(REQUEST_SUBJECTS)(
    'lets orders request %s from its own inbox, muxed or not, and inventory answer',
    async (subject) => {
      const inventory = connections.inventory;
      const replyInboxes: string[] = [];
      const handler = inventory.subscribe(subject, {
        queue: 'inventory',
        callback: (_error, message: Msg) => {
          replyInboxes.push(message.reply ?? '');
          message.respond(encode(`answered ${message.subject}`));
        },
      });
      await inventory.flush();

      const muxed = await connections.orders.request(subject, encode('{}'), { timeout: 2000 });
      const own = await connections.orders.request(subject, encode('{}'), { timeout: 2000, noMux: true });
      handler.unsubscribe();

      expect([decode(muxed.data), decode(own.data)]).toEqual([`answered ${subject}`, `answered ${subject}`]);
      expect(replyInboxes).toEqual([
        expect.stringMatching(/^_INBOX_orders\.[^.]+\.[^.]+$/),
        expect.stringMatching(/^_INBOX_orders\.[^.]+$/),
      ]);
    },
  );

  // a request names its reply subject: were answers allowed anywhere (allow_responses), orders could
  // make inventory write into the revocation bucket, purge it through the JetStream API, or speak as auth
  it.each([
    `$KV.${REVOCATION_BUCKET}.sub.victim`,
    `$JS.API.STREAM.PURGE.${STREAM}`,
    'auth.revoked',
    '_INBOX_auth.x',
  ])('refuses inventory’s answer aimed at %s', async (replyTo) => {
    const { auth, orders, inventory } = connections;
    const violations = new Violations(inventory);
    const before = await streamState(auth);
    const handler = inventory.subscribe('inventory.stock', {
      callback: (_error, message: Msg) => message.respond(encode('{"err":{"status":401}}')),
    });
    await inventory.flush();

    orders.publish('inventory.stock', encode('{}'), { reply: replyTo });
    await orders.flush();

    expect(await violations.reported('publish', replyTo)).toBe(true);
    handler.unsubscribe();
    expect(await streamState(auth)).toEqual(before);
  });

  /** Orders' revocation feed as libs/auth runs it: a connection of its own, under `<prefix>.revocations`. */
  async function connectOrdersFeed(): Promise<NatsConnection> {
    return connect({ ...server.connectionOptions('orders'), inboxPrefix: revocationInboxPrefixOf('orders') });
  }

  // inventory may answer into orders' inbox: were the feed's inbox there too, it could feed orders a
  // forged delete of a revocation
  it('keeps inventory out of the inbox where orders’ revocation watch receives its entries', async () => {
    const { auth, inventory } = connections;
    const feed = await connectOrdersFeed();
    const writer = await createRevocationBucket(auth);
    await writer.put('sub.victim', encode('{"at":1}'));
    const reader = await followBucket(await bindRevocationBucket(feed));
    await reader.replayed;
    const replayed = [...reader.entries];
    const violations = new Violations(inventory);
    const forgedDelete = createHeaders();
    forgedDelete.set('KV-Operation', 'DEL');

    inventory.publish(reader.deliverSubject, encode(''), { headers: forgedDelete });
    await inventory.flush();
    await feed.flush();

    expect(reader.deliverSubject).toMatch(/^_INBOX_orders\.revocations\.[^.]+$/);
    expect(await violations.reported('publish', reader.deliverSubject)).toBe(true);
    expect(reader.entries).toEqual(replayed);
    reader.stop();
    await feed.close();
  });

  // JetStream answers the feed's requests (the watch's consumer create, which says how many entries
  // the replay holds) on nats.js's muxed `<prefix>.<id>.<token>`: the form inventory's answers take
  it('keeps inventory from answering orders’ revocation feed in JetStream’s place', async () => {
    const { inventory } = connections;
    const feed = await connectOrdersFeed();
    const violations = new Violations(inventory);
    const asked = new Promise<string>((resolve) => {
      const spy = feed.subscribe(`${revocationInboxPrefixOf('orders')}.>`, {
        callback: (_error, message) => resolve(message.subject),
      });
      void feed.flush().then(() => {
        // a request of the feed's, muxed: its reply subject is where a forgery would have to land
        void feed
          .request(`$JS.API.STREAM.INFO.${STREAM}`, undefined, { timeout: 2000 })
          .catch(() => undefined)
          .finally(() => spy.unsubscribe());
      });
    });
    const replySubject = await asked;

    const forged = `${replySubject.split('.').slice(0, -1).join('.')}.forged`;
    inventory.publish(forged, encode('{"num_pending":0}'));
    await inventory.flush();

    expect(replySubject).toMatch(/^_INBOX_orders\.revocations\.[^.]+\.[^.]+$/);
    expect(await violations.reported('publish', forged)).toBe(true);
    await feed.close();
  });

  it('lets inventory announce inventory.reserved to orders', async () => {
    const received = record(connections.orders, 'inventory.reserved');
    await connections.orders.flush();

    connections.inventory.publish('inventory.reserved', encode('{}'));
    await connections.inventory.flush();

    expect(
      await eventually(
        () => received.messages,
        (seen) => seen.length > 0,
      ),
    ).toEqual(['inventory.reserved']);
    received.subscription.unsubscribe();
  });

  it.each(['auth.revoked', 'auth.keys.rotated'])(
    'lets auth announce %s to orders and inventory',
    async (subject) => {
      const listeners = [record(connections.orders, 'auth.>'), record(connections.inventory, 'auth.>')];
      await Promise.all([connections.orders.flush(), connections.inventory.flush()]);

      connections.auth.publish(subject, encode('{}'));
      await connections.auth.flush();

      const received = await Promise.all(
        listeners.map(({ messages }) =>
          eventually(
            () => messages,
            (seen) => seen.length > 0,
          ),
        ),
      );
      expect(received).toEqual([[subject], [subject]]);
      listeners.forEach(({ subscription }) => subscription.unsubscribe());
    },
  );
});

describe('the closed bus bounds what JetStream holds', () => {
  let server: NatsServer;
  let connections: Connections;

  beforeAll(async () => {
    server = await startNatsServer({ closed: true });
    connections = await connectAll(server);
    await createRevocationBucket(connections.auth);
  });

  afterAll(async () => {
    if (connections !== undefined) await closeAll(connections);
    await server?.stop();
  });

  /** JetStream's answer to a consumer create on the revocation stream (a pull consumer, dropped 60 s after its last use). */
  async function createConsumer(connection: NatsConnection): Promise<{ created: boolean; error?: string }> {
    const request = { stream_name: STREAM, config: { ack_policy: 'none', inactive_threshold: 60e9 } };
    const reply = await connection.request(
      `$JS.API.CONSUMER.CREATE.${STREAM}`,
      encode(JSON.stringify(request)),
      {
        timeout: 2000,
      },
    );
    const answer = JSON.parse(decode(reply.data)) as { error?: { description?: string } };
    return answer.error === undefined
      ? { created: true }
      : { created: false, error: answer.error.description };
  }

  it(`lets a reader's key create ${JETSTREAM_LIMITS.maxConsumers} consumers and no more`, async () => {
    const answers = [];
    for (let index = 0; index <= JETSTREAM_LIMITS.maxConsumers; index += 1) {
      answers.push(await createConsumer(connections.orders));
    }

    expect(answers.filter(({ created }) => created)).toHaveLength(JETSTREAM_LIMITS.maxConsumers);
    expect(answers.at(-1)).toEqual({
      created: false,
      error: expect.stringMatching(/maximum consumers limit/i),
    });
  });

  // auth, the one identity that may create a stream, may create the revocation bucket's only: the
  // account's stream limit stands behind that permission
  it('renders the account limits into the config', () => {
    const config = natsServerConfig(PLACEHOLDER_CONFIG_OPTIONS);

    expect(config).toContain(
      `jetstream: { max_streams: ${JETSTREAM_LIMITS.maxStreams}, max_consumers: ${JETSTREAM_LIMITS.maxConsumers} }`,
    );
  });
});

describe('who may connect to the closed bus', () => {
  let server: NatsServer;
  let otherCaDir: string;

  beforeAll(async () => {
    server = await startNatsServer({ closed: true });
    otherCaDir = mkdtempSync(join(tmpdir(), 'relay-other-bus-'));
  });

  afterAll(async () => {
    await server?.stop();
    if (otherCaDir !== undefined) rmSync(otherCaDir, { recursive: true, force: true });
  });

  it('accepts an identity of the table over TLS', async () => {
    const orders = await connect(server.connectionOptions('orders'));

    await expect(orders.flush()).resolves.toBeUndefined();
    await orders.close();
  });

  it('refuses an anonymous client, even over TLS with the right CA', async () => {
    await expect(connect({ servers: server.url, tls: { caFile: server.bus?.caFile } })).rejects.toMatchObject(
      {
        code: ErrorCode.AuthorizationViolation,
      },
    );
  });

  it('refuses a plain-TCP client that ignores tls_required', async () => {
    const { info, rest } = await speakPlainText(server.port);

    expect(JSON.parse(info.replace(/^INFO /, ''))).toMatchObject({ tls_required: true, auth_required: true });
    expect(rest).toBe('');
  });

  it('leaves nats.js no plain-TCP fallback: a nats:// URL without a CA still needs TLS', async () => {
    const plain = { ...server.connectionOptions('orders'), servers: server.url.replace('tls://', 'nats://') };

    await expect(connect({ ...plain, tls: undefined })).rejects.toThrow(/certificate/);
  });

  it('refuses an NKey seed that is not in the config', async () => {
    const stranger = nkeys.createUser().getSeed();

    await expect(
      connect({ ...server.connectionOptions('orders'), authenticator: nkeyAuthenticator(stranger) }),
    ).rejects.toMatchObject({ code: ErrorCode.AuthorizationViolation });
  });

  it('refuses to talk to a server when the client trusts another CA', async () => {
    const other = await writeBusMaterial(otherCaDir);

    await expect(
      connect({ ...server.connectionOptions('orders'), tls: { caFile: other.caFile } }),
    ).rejects.toThrow(/certificate/);
  });
});

// ---- the material -------------------------------------------------------------------------------

const runCli = promisify(execFile);
const CLI = join(NATS_BUS_DIR, 'src', 'cli.js');

describe('the closed bus material', () => {
  let outDir: string;

  beforeEach(() => {
    outDir = mkdtempSync(join(tmpdir(), 'relay-bus-material-'));
  });

  afterEach(() => rmSync(outDir, { recursive: true, force: true }));

  it('keeps secrets 0600 and out of the server config, which names each service’s public key', async () => {
    const material = await writeBusMaterial(outDir);

    const config = readFileSync(material.configFile, 'utf8');
    const mode = (file: string) => statSync(file).mode & 0o777;
    const seeds = SERVICES.map((service) => readFileSync(material.seedFiles[service], 'utf8').trim());

    expect(SERVICES.map((service) => mode(material.seedFiles[service]))).toEqual([0o600, 0o600, 0o600]);
    expect(mode(join(outDir, 'server', 'server-key.pem'))).toBe(0o600);
    expect(mode(material.caFile)).toBe(0o644);
    expect(config).not.toMatch(/PRIVATE KEY|\bSU[A-Z2-7]{50,}/);
    seeds.forEach((seed) => expect(config).not.toContain(seed));
    SERVICES.forEach((service, index) => {
      expect(config).toContain(`nkey: ${material.publicKeys[service]}`);
      expect(publicKeyOfSeed(seeds[index])).toBe(material.publicKeys[service]);
    });
    expect(config).not.toMatch(/allow_responses/);
  });

  it('renders every entry of the table into the config', () => {
    const config = natsServerConfig(PLACEHOLDER_CONFIG_OPTIONS);

    for (const service of SERVICES) {
      for (const subject of [...TABLE[service].publish, ...TABLE[service].subscribe]) {
        expect(config).toContain(JSON.stringify(subject));
      }
    }
    expect(config).not.toMatch(/no_auth_user|allow:\s*\[\s*">"/);
  });

  it('tells whether material is there, and what a client needs as absolute paths', async () => {
    const isThereBefore = hasBusMaterial(outDir);
    const material = await writeBusMaterial(outDir);
    const relative = { caFile: 'bus/ca.pem', seedFiles: material.seedFiles };

    const info = connectionInfo('tls://127.0.0.1:4222', relative);

    expect(isThereBefore).toBe(false);
    expect(hasBusMaterial(outDir)).toBe(true);
    expect(Object.keys(info)).toEqual(['url', 'caFile', 'seedFiles', 'inboxPrefixes']);
    expect(isAbsolute(info.caFile)).toBe(true);
    expect(Object.values(info.seedFiles).every(isAbsolute)).toBe(true);
    expect(info.inboxPrefixes).toEqual({
      auth: '_INBOX_auth',
      orders: '_INBOX_orders',
      inventory: '_INBOX_inventory',
    });
    rmSync(material.seedFiles.orders);
    expect(hasBusMaterial(outDir)).toBe(false);
  });

  it('has a CLI that keeps existing keys with --if-missing, renders their config again, and refuses unknown arguments', async () => {
    await runCli(process.execPath, [CLI, outDir, '--if-missing']);
    const keptFiles = ['orders/orders.nk', 'server/server-key.pem', 'server/ca.pem'].map((file) =>
      join(outDir, file),
    );
    const kept = keptFiles.map((file) => readFileSync(file, 'utf8'));
    const configFile = join(outDir, 'server', 'nats-server.conf');
    // as a deployment made before today's table would have it
    writeFileSync(configFile, '# an older table\n');
    const publicKeys = Object.fromEntries(
      SERVICES.map((service) => [
        service,
        publicKeyOfSeed(readFileSync(join(outDir, service, `${service}.nk`), 'utf8').trim()),
      ]),
    );

    const again = await runCli(process.execPath, [CLI, outDir, '--if-missing', '--listen', '0.0.0.0:4222']);
    const refused = await runCli(process.execPath, [CLI, outDir, '--bogus']).catch((error: unknown) => error);

    expect(again.stdout).toMatch(/kept .*rendered again/);
    expect(keptFiles.map((file) => readFileSync(file, 'utf8'))).toEqual(kept);
    expect(readFileSync(configFile, 'utf8')).toBe(
      natsServerConfig({
        publicKeys,
        certFile: join(resolve(outDir), 'server', 'server-cert.pem'),
        keyFile: join(resolve(outDir), 'server', 'server-key.pem'),
        listen: '0.0.0.0:4222',
      }),
    );
    expect(refused).toMatchObject({ code: 2, stderr: expect.stringContaining("unknown argument '--bogus'") });
  });
});
