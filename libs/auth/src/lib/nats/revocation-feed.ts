import { ErrorCode, Events, type KvEntry, type KvWatchOptions, type NatsConnection, NatsError } from 'nats';

import { AuthSubjects, REVOCATION_RETENTION_SECONDS, type RevocationEntry } from '@relay/contracts';

import { reportRevocationApplied } from '../telemetry/auth-channels';
import type { RelayNatsClient } from './relay-nats-client';
import { type SilenceWatch, watchSilence } from './silence-watch';
import { withTimeout } from './with-timeout';

/** Receives revocation changes from the bus. */
export interface RevocationSink {
  apply(entry: RevocationEntry): void;
  /** A bucket key (`revocationKey` in @relay/contracts) was deleted or purged. */
  remove(key: string): void;
  /** The feed stopped on its own (bucket or JetStream gone, the server silent); state may be stale. */
  lost(): void;
}

/** A running feed. */
export interface RevocationFeed {
  stop(): void;
  /** Stopped, by `stop()` or because it was lost. */
  readonly isStopped: boolean;
}

export interface WatchRevocationsOptions {
  /**
   * How long the replay of the bucket may go without an entry before this attempt fails (a consumer
   * that stalled while JetStream still answers for the stream). A replay that keeps arriving may take
   * longer: a large bucket on a loaded machine is not a failure. Also how late a probe's answer counts.
   */
  replayStallLimitMs: number;
  /** Create the bucket when it is missing; `false` binds only (a missing bucket fails this attempt). */
  createBucket: boolean;
}

/** The feed counts as lost when JetStream has not answered for the bucket's stream for this long. */
export const FEED_SILENCE_LIMIT_MS = 700;
const PROBE_INTERVAL_MS = 150;
// what JetStream answers for a stream it does not have
const STREAM_NOT_FOUND = 'stream not found';

const KINDS: readonly string[] = ['jti', 'sid', 'sub'];

/**
 * Replays every entry of the revocation bucket (created if missing when `createBucket`: history 1,
 * TTL = longest token), then follows changes and `auth.revoked` events, asking JetStream for the
 * bucket's stream every 150 ms: a disconnect, a silent socket (a partition nats.js has not noticed
 * yet) or a server that answers without JetStream serving the bucket (its storage exhausted, a cluster
 * without a leader, the stream deleted: the watch would wait in silence, and the issuer could write no
 * revocation) reports the feed `lost` within {@link FEED_SILENCE_LIMIT_MS} + 150 ms, inside 1 s.
 * Resolves once the replay is complete. `client.connection()` gives the connection to follow on: in a
 * service, `RelayNatsClient.revocationConnection()`, never the one its calls use (see there).
 */
export async function watchRevocations(
  client: Pick<RelayNatsClient, 'connection'>,
  bucket: string,
  sink: RevocationSink,
  { replayStallLimitMs, createBucket }: WatchRevocationsOptions,
): Promise<RevocationFeed> {
  const connection = await client.connection();
  // a server that does not answer now fails this attempt at once, not after the consumer's timeout
  await withTimeout(connection.flush(), replayStallLimitMs, 'NATS ping');
  // checkAPI false: no `$JS.API.INFO`, which no identity on the closed bus is allowed. Bound only, a
  // missing bucket fails the probe below ('stream not found'), not a create the identity may not do
  const kv = await connection
    .jetstream({ checkAPI: false })
    .views.kv(bucket, { history: 1, ttl: REVOCATION_RETENTION_SECONDS * 1000, bindOnly: !createBucket });
  // settled by the end of the replay, or by the feed's loss or stall during it: then this attempt
  // fails at once (the caller retries)
  let endReplay = (_failure?: Error): void => undefined;
  const initialized = new Promise<void>((resolve, reject) => {
    endReplay = (failure) => (failure === undefined ? resolve() : reject(failure));
  });
  const stream = `KV_${bucket}`;
  // Before the watch, whose replay would otherwise pile up in the socket meanwhile, past a partition
  // that began then: an identity refused the probe's subject (permissions from an older table) fails
  // here with a line that says so, instead of its feed being lost every second.
  await assertServed(connection, stream, replayStallLimitMs, createBucket);
  const watchOptions: KvWatchOptions = { key: '>', initializedFn: () => endReplay() };
  const watcher = await kv.watch(watchOptions).catch((error: unknown) => {
    // deleted since the probe
    if (!createBucket && error instanceof Error && error.message === STREAM_NOT_FOUND) {
      throw notCreatedYet(error);
    }
    throw error;
  });
  const stall = watchSilence(replayStallLimitMs, Math.min(replayStallLimitMs, 250), () =>
    endReplay(new Error(`the replay of ${bucket} received nothing for ${replayStallLimitMs} ms`)),
  );
  void initialized.then(stall.stop, stall.stop);
  let stopped = false;
  const lose = (): void => {
    if (stopped) return;
    feed.stop();
    sink.lost();
    endReplay(new Error(`the feed of ${bucket} was lost during its replay`));
  };
  const probe = probeBucket(connection, stream, replayStallLimitMs, lose);
  void (async () => {
    for await (const entry of watcher) {
      // an entry is JetStream serving the bucket: a replay that holds the probe's answer back in the
      // socket (a large bucket on a loaded machine) is not silence
      probe.heard();
      stall.heard();
      applyEntry(entry, sink);
    }
    lose();
  })().catch(lose);
  const subscription = connection.subscribe(AuthSubjects.revoked, {
    callback: (error, message) => {
      const entry = error ? undefined : parseEntry(message.data);
      if (!entry) return;
      sink.apply(entry);
      // events are always live (never a replay): their lag is the feed's
      reportRevocationApplied(entry);
    },
  });
  const stopWatchingStatus = onReconnect(connection, lose);
  const feed: RevocationFeed = {
    stop: () => {
      stopped = true;
      probe.stop();
      stopWatchingStatus();
      watcher.stop();
      subscription.unsubscribe();
    },
    get isStopped() {
      return stopped;
    },
  };
  try {
    await initialized;
    if (stopped) throw new Error(`the feed of ${bucket} was lost during its replay`);
  } catch (error) {
    feed.stop();
    throw error;
  }
  return feed;
}

/**
 * Calls `onLost` when the connection drops, however briefly: `auth.revoked` events sent meanwhile are
 * gone, and only a replay of the bucket catches up (nats.js may be back before any ping notices).
 */
function onReconnect(connection: NatsConnection, onLost: () => void): () => void {
  const statuses = connection.status();
  let isStopped = false;
  void (async () => {
    for await (const status of statuses) {
      if (isStopped) return;
      if (status.type === Events.Disconnect || status.type === Events.Reconnect) return onLost();
    }
  })();
  return () => {
    isStopped = true;
    // nats.js's status iterator has stop() (not in its AsyncIterable type): end it now, not at the next event
    (statuses as Partial<{ stop(): void }>).stop?.();
  };
}

/**
 * Asks JetStream for `stream`'s info every 150 ms; calls `onSilent` once neither an answer without an
 * error nor anything `heard()` of has come for {@link FEED_SILENCE_LIMIT_MS}. No responders (JetStream
 * off), an error answer (no such stream, no leader) and no answer are all silence. An answer counts up
 * to `answerTimeoutMs` late: one that waited in the socket while this process stood still is no silence.
 */
function probeBucket(
  connection: NatsConnection,
  stream: string,
  answerTimeoutMs: number,
  onSilent: () => void,
): SilenceWatch {
  let isProbing = false;
  const watch = watchSilence(FEED_SILENCE_LIMIT_MS, PROBE_INTERVAL_MS, onSilent, () => {
    if (isProbing) return;
    isProbing = true;
    askStreamInfo(connection, stream, answerTimeoutMs).then(
      (problem) => {
        isProbing = false;
        if (problem === undefined) watch.heard();
      },
      () => (isProbing = false),
    );
  });
  return watch;
}

/**
 * Throws unless JetStream answers for `stream`'s info without an error, saying what it got instead
 * (a stream missing where this service may only bind: not created yet).
 */
async function assertServed(
  connection: NatsConnection,
  stream: string,
  timeoutMs: number,
  mayCreate: boolean,
): Promise<void> {
  const subject = streamInfoSubject(stream);
  const problem = await askStreamInfo(connection, stream, timeoutMs).catch((error: unknown) => {
    if (!(error instanceof NatsError)) throw error;
    const reason = error.isPermissionError()
      ? `this identity may not publish ${subject}, which the feed asks every 150 ms (allow it, as libs/nats-bus's table does)`
      : error.code === ErrorCode.NoResponders
        ? `nothing answers ${subject} (JetStream is not enabled)`
        : `no answer to ${subject} within ${timeoutMs} ms`;
    throw new Error(reason, { cause: error });
  });
  if (problem === STREAM_NOT_FOUND && !mayCreate) throw notCreatedYet();
  if (problem !== undefined) throw new Error(`JetStream does not serve ${stream}: ${problem}`);
}

function notCreatedYet(cause?: unknown): Error {
  return new Error('not created yet: the issuer creates it', { cause });
}

/**
 * What keeps JetStream from serving `stream` (its answer's error), or `undefined` when it answers for
 * the stream's info; rejects without an answer. Asked on an inbox of its own (`noMux`), on the feed's
 * own connection, whose inboxes no other service may publish to (libs/nats-bus), so no compromised
 * service can answer in JetStream's place.
 */
async function askStreamInfo(
  connection: NatsConnection,
  stream: string,
  timeoutMs: number,
): Promise<string | undefined> {
  // bounded here too: nats.js never settles a noMux request whose connection closes meanwhile
  const answer = await withTimeout(
    connection.request(streamInfoSubject(stream), undefined, { timeout: timeoutMs, noMux: true }),
    timeoutMs,
    () => NatsError.errorForCode(ErrorCode.Timeout),
  );
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(answer.data));
  } catch {
    return 'an unreadable answer';
  }
  if (typeof parsed !== 'object' || parsed === null) return 'an unreadable answer';
  if (!('error' in parsed)) return undefined;
  const description = (parsed.error as { description?: unknown } | null)?.description;
  return typeof description === 'string' ? description : 'an error answer';
}

function streamInfoSubject(stream: string): string {
  return `$JS.API.STREAM.INFO.${stream}`;
}

function applyEntry(entry: KvEntry, sink: RevocationSink): void {
  if (entry.operation !== 'PUT') {
    sink.remove(entry.key);
    return;
  }
  const parsed = parseEntry(entry.value);
  if (parsed) sink.apply(parsed);
}

function parseEntry(data: Uint8Array): RevocationEntry | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(data));
    const { kind, id, at } = (value ?? {}) as Record<string, unknown>;
    if (typeof kind !== 'string' || !KINDS.includes(kind)) return undefined;
    if (typeof id !== 'string' || typeof at !== 'number' || !Number.isFinite(at)) return undefined;
    return { kind, id, at } as RevocationEntry;
  } catch {
    return undefined;
  }
}
