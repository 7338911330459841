import type { KvEntry, KvWatchOptions } from 'nats';

import { AuthSubjects, type RevocationEntry } from '@relay/contracts';

import { MAX_ACCESS_TOKEN_TTL_SECONDS } from '@relay/contracts';
import type { RelayNatsClient } from './relay-nats-client';

/** Receives revocation changes from the bus. */
export interface RevocationSink {
  apply(entry: RevocationEntry): void;
  /** A bucket key (`<kind>.<id>`) was deleted or purged. */
  remove(key: string): void;
  /** The feed stopped on its own (bucket or JetStream gone); state may be stale. */
  lost(): void;
}

/** A running feed. */
export interface RevocationFeed {
  stop(): void;
}

const KINDS: readonly string[] = ['jti', 'sid', 'sub'];

/**
 * Replays every entry of the revocation bucket (created if missing: history 1, TTL = longest token),
 * then follows changes and `auth.revoked` events. Resolves once the replay is complete.
 */
export async function watchRevocations(
  client: RelayNatsClient,
  bucket: string,
  sink: RevocationSink,
  initialSyncTimeoutMs: number,
): Promise<RevocationFeed> {
  const connection = await client.connection();
  const kv = await connection
    .jetstream()
    .views.kv(bucket, { history: 1, ttl: MAX_ACCESS_TOKEN_TTL_SECONDS * 1000 });
  let markInitialized = (): void => undefined;
  const initialized = new Promise<void>((resolve) => (markInitialized = resolve));
  const watchOptions: KvWatchOptions = { key: '>', initializedFn: () => markInitialized() };
  const watcher = await kv.watch(watchOptions);
  let stopped = false;
  void (async () => {
    for await (const entry of watcher) applyEntry(entry, sink);
    if (!stopped) sink.lost();
  })().catch(() => sink.lost());
  const subscription = connection.subscribe(AuthSubjects.revoked, {
    callback: (error, message) => {
      const entry = error ? undefined : parseEntry(message.data);
      if (entry) sink.apply(entry);
    },
  });
  const feed: RevocationFeed = {
    stop: () => {
      stopped = true;
      watcher.stop();
      subscription.unsubscribe();
    },
  };
  const timedOut = await Promise.race([
    initialized.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(true), initialSyncTimeoutMs).unref()),
  ]);
  if (timedOut) {
    feed.stop();
    throw new Error(`initial replay of ${bucket} took over ${initialSyncTimeoutMs} ms`);
  }
  return feed;
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
