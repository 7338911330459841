import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';

import {
  parseRevocationKey,
  REVOCATION_RETENTION_SECONDS,
  type RevocationEntry,
  type RevocationKind,
} from '@relay/contracts';

import type { Principal } from '../access-token/access-token';
import { AUTH_MODULE_OPTIONS } from '../auth.module-definition';
import { type AuthModuleOptions, epochMsClock, resolveAuthOptions } from '../auth-module-options';
import { AuthError } from '../errors/auth.error';
import { RelayNatsClient } from '../nats/relay-nats-client';
import { type RevocationFeed, watchRevocations } from '../nats/revocation-feed';
import { withTimeout } from '../nats/with-timeout';
import { reportRevocationFeedLost } from '../telemetry/auth-channels';

const RETRY_MS = 250;
// a replay that receives nothing this long fails its attempt (one that keeps arriving may take longer)
const REPLAY_STALL_LIMIT_MS = 5000;
// Unsynced this long, the list logs an error: before that (a service started before the issuer made
// the bucket, a NATS restart) it is expected and a warning says so once.
const PERSISTENT_FAILURE_MS = 30_000;
// CONTRACT.md "The bus is closed": an entry dated further ahead than this is refused
const MAX_FUTURE_SECONDS = 30;
// While the list stays in sync nothing replays it: entries past the bucket's TTL are dropped this often
const PRUNE_INTERVAL_MS = 10 * 60 * 1000;

/**
 * Revoked token ids, ended sessions and blocked subjects, mirrored from the JetStream KV bucket
 * (replayed from the start, then followed). Fails closed: until a replay completes, and from the
 * moment the feed is lost (disconnect, or JetStream silent for the bucket for 700 ms) until the
 * bucket has been replayed again, every token is refused with 503 rather than accepted unchecked.
 */
@Injectable()
export class RevocationList implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RevocationList.name);
  private readonly entries: Record<RevocationKind, Map<string, number>> = {
    jti: new Map(),
    sid: new Map(),
    sub: new Map(),
  };
  // Every not-before held for each subject (`entries.sub` keeps the latest, set by settleSubject
  // alone): an operator deleting the newest leaves the one before it standing.
  private readonly notBefores = new Map<string, Set<number>>();
  private readonly bucket: string;
  private readonly mayCreateBucket: boolean;
  private feed?: RevocationFeed;
  private synced = false;
  // replayed at least once in this process: the list is complete up to the last loss
  private hasSynced = false;
  private readonly isLastKnownEnough: boolean;
  private changes = 0;
  private isDestroyed = false;
  private retryTimer?: NodeJS.Timeout;
  // when the list last stopped being synced (or the start, before its first replay) and what was logged since
  private failingSinceMs?: number;
  private loggedFailure: 'none' | 'warn' | 'error' = 'none';
  private readonly nowMs: () => number;
  private lastPrunedMs: number;

  constructor(
    @Inject(AUTH_MODULE_OPTIONS) options: AuthModuleOptions,
    private readonly natsClient: RelayNatsClient,
  ) {
    const resolved = resolveAuthOptions(options);
    this.bucket = resolved.revocationBucket;
    this.mayCreateBucket = resolved.createRevocationBucket;
    this.isLastKnownEnough = resolved.revocationOutage === 'last-known';
    this.nowMs = epochMsClock(options.clock);
    this.lastPrunedMs = this.nowMs();
  }

  /**
   * Changes with every entry applied or removed and every change of sync state: a watcher can tell
   * whether the list moved between two moments (a spec proves a stall does not flip its sync state).
   */
  get version(): number {
    return this.changes;
  }

  /** Whether the bucket has been replayed and is being followed (report it on `/health`). */
  isSynced(): boolean {
    return this.synced;
  }

  /** Throws `AuthError` when the token's `jti`, its `sid`, or its subject (issued at or before the block) is revoked. */
  assertNotRevoked(principal: Principal): void {
    if (!this.synced && !(this.isLastKnownEnough && this.hasSynced)) {
      throw new AuthError('revocation_unavailable');
    }
    const blockedAt = this.entries.sub.get(principal.subject);
    const isRevoked =
      this.entries.jti.has(principal.tokenId) ||
      (principal.sessionId !== undefined && this.entries.sid.has(principal.sessionId)) ||
      (blockedAt !== undefined && principal.issuedAt <= blockedAt);
    if (isRevoked) throw new AuthError('token_revoked');
  }

  /** The latest not-before of `subject` held (epoch seconds: its tokens with `iat` at or before it are refused). */
  subjectNotBefore(subject: string): number | undefined {
    return this.entries.sub.get(subject);
  }

  /** Applies one entry (from the bucket or an `auth.revoked` event); one dated over 30 s ahead is refused. */
  apply(entry: RevocationEntry): void {
    if (entry.at > this.nowMs() / 1000 + MAX_FUTURE_SECONDS) {
      this.logger.warn(`Refused a ${entry.kind} revocation dated over ${MAX_FUTURE_SECONDS} s in the future`);
      return;
    }
    if (entry.kind === 'sub') {
      this.notBefores.set(entry.id, (this.notBefores.get(entry.id) ?? new Set<number>()).add(entry.at));
      this.settleSubject(entry.id);
    } else {
      const current = this.entries[entry.kind].get(entry.id);
      this.entries[entry.kind].set(entry.id, Math.max(current ?? entry.at, entry.at));
    }
    // a service in sync for weeks would otherwise keep every logout it ever heard of
    if (this.nowMs() - this.lastPrunedMs >= PRUNE_INTERVAL_MS) this.prune();
    this.changes += 1;
  }

  /**
   * Waits for the first replay for up to {@link REPLAY_STALL_LIMIT_MS}, so an app usually starts in
   * sync; a longer one (a large bucket) goes on while the app starts and answers `/health/live`, its
   * tokens refused until the replay completes.
   */
  async onApplicationBootstrap(): Promise<void> {
    // connect() never rejects (a failure schedules its retry): only the wait's end lands in catch
    await withTimeout(this.connect(), REPLAY_STALL_LIMIT_MS, 'First revocation replay').catch(() => {
      if (this.synced) return;
      this.logger.warn(
        `Revocation list still replaying ${this.bucket} after ${REPLAY_STALL_LIMIT_MS / 1000} s; refusing tokens until it completes`,
      );
    });
  }

  onModuleDestroy(): void {
    this.isDestroyed = true;
    clearTimeout(this.retryTimer);
    this.feed?.stop();
    this.setSynced(false);
  }

  private async connect(): Promise<void> {
    if (this.isDestroyed) return;
    try {
      this.feed = await watchRevocations(
        { connection: () => this.natsClient.revocationConnection() },
        this.bucket,
        { apply: (entry) => this.apply(entry), remove: (key) => this.remove(key), lost: () => this.onLost() },
        { replayStallLimitMs: REPLAY_STALL_LIMIT_MS, createBucket: this.mayCreateBucket },
      );
      if (this.isDestroyed) return this.feed.stop();
      // lost between its replay and here: onLost saw the list not synced and left the retry to us
      if (this.feed.isStopped) return this.scheduleRetry();
      this.prune();
      this.setSynced(true);
      if (this.loggedFailure !== 'none') this.logger.log(`Revocation list synced from ${this.bucket}`);
      this.loggedFailure = 'none';
      this.failingSinceMs = undefined;
    } catch (error) {
      this.logFailure(error instanceof Error ? error.message : String(error));
      this.scheduleRetry();
    }
  }

  // a warning at the first failure, an error once it has lasted PERSISTENT_FAILURE_MS
  private logFailure(reason: string): void {
    const now = this.nowMs();
    this.failingSinceMs ??= now;
    if (this.loggedFailure === 'none') {
      this.logger.warn(
        `Revocation list not synced: JetStream KV ${this.bucket} unavailable (${reason}); refusing tokens until it is, retrying`,
      );
      this.loggedFailure = 'warn';
    } else if (this.loggedFailure === 'warn' && now - this.failingSinceMs >= PERSISTENT_FAILURE_MS) {
      this.logger.error(
        `Revocation list still not synced after ${PERSISTENT_FAILURE_MS / 1000} s: JetStream KV ${this.bucket} unavailable (${reason}); refusing tokens until it is`,
      );
      this.loggedFailure = 'error';
    }
  }

  private onLost(): void {
    // lost during a replay: connect() fails and retries itself
    if (this.isDestroyed || !this.synced) return;
    this.logger.warn(`Revocation feed from ${this.bucket} lost; refusing tokens until it is replayed`);
    this.loggedFailure = 'warn';
    this.failingSinceMs = this.nowMs();
    reportRevocationFeedLost(this.bucket);
    this.setSynced(false);
    this.feed?.stop();
    this.scheduleRetry();
  }

  private setSynced(synced: boolean): void {
    this.synced = synced;
    if (synced) this.hasSynced = true;
    this.changes += 1;
  }

  private scheduleRetry(): void {
    if (this.isDestroyed) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), RETRY_MS);
    this.retryTimer.unref();
  }

  // An operator's delete or purge: a subject's not-before going leaves the latest of the others
  // standing. A `sub.<id>` key (written before subject keys carried their not-before) takes them all.
  private remove(key: string): void {
    const removed = parseRevocationKey(key);
    if (removed?.kind === 'sub') {
      if (removed.at === undefined) this.notBefores.delete(removed.id);
      else this.notBefores.get(removed.id)?.delete(removed.at);
      this.settleSubject(removed.id);
    } else if (removed !== undefined) {
      this.entries[removed.kind].delete(removed.id);
    }
    this.changes += 1;
  }

  // the subject's latest not-before still held, or none
  private settleSubject(subject: string): void {
    const held = this.notBefores.get(subject);
    if (held === undefined || held.size === 0) {
      this.notBefores.delete(subject);
      this.entries.sub.delete(subject);
    } else {
      this.entries.sub.set(subject, Math.max(...held));
    }
  }

  // the bucket's TTL drops old entries without telling watchers; mirror that in memory
  private prune(): void {
    this.lastPrunedMs = this.nowMs();
    const oldest = this.lastPrunedMs / 1000 - REVOCATION_RETENTION_SECONDS;
    for (const map of [this.entries.jti, this.entries.sid]) {
      for (const [id, at] of map) if (at < oldest) map.delete(id);
    }
    for (const [subject, held] of this.notBefores) {
      for (const at of held) if (at < oldest) held.delete(at);
      this.settleSubject(subject);
    }
    this.changes += 1;
  }
}
