import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { KV } from 'nats';

import { CallContext, RelayNatsClient, RevocationList } from '@relay/auth';
import {
  AuthSubjects,
  type KeysRotatedEvent,
  REVOCATION_BUCKET,
  REVOCATION_RETENTION_SECONDS,
  type RevocationEntry,
  revocationKey,
} from '@relay/contracts';
import type { Queryable } from '@relay/database';

import { RevocationOutboxRepository } from './revocation-outbox.repository';

const RETRY_MS = 250;
// how often the outbox is read for rows no process is publishing: another auth replica's, committed
// just before it crashed or stopped (each replica publishes its own rows as it commits them)
const OUTBOX_POLL_MS = 1000;
// an acknowledgement lost in a reconnect is retried after this, not after nats.js's 5 s
const ACK_TIMEOUT_MS = 1000;
const BATCH = 100;

/**
 * Writes revocations where every verifier reads them, durably: `record()` puts the entry in auth's
 * database in the transaction of the change it follows from (an outbox), `release()` applies it in
 * this process at once and publishes every pending entry to the JetStream KV bucket (plus an
 * `auth.revoked` event, the fast path). An entry leaves the outbox only once the bucket has
 * acknowledged it; until then it is retried every 250 ms, so a revocation answered while NATS is
 * down reaches every service as soon as NATS is back. Every replica also reads the outbox each
 * second, so a row another replica committed and never published (it crashed or stopped first) goes
 * out too. Values are ids and times only.
 */
@Injectable()
export class RevocationPublisher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RevocationPublisher.name);
  private bucket?: Promise<KV>;
  private flushing?: Promise<void>;
  // set by every release: a running flush may have read the outbox before that row was committed
  private hasMore = false;
  private retryTimer?: NodeJS.Timeout;
  private pollTimer?: NodeJS.Timeout;
  private isDestroyed = false;
  private hasLoggedFailure = false;

  constructor(
    private readonly nats: RelayNatsClient,
    private readonly revocations: RevocationList,
    private readonly outbox: RevocationOutboxRepository,
  ) {}

  /**
   * Creates the bucket if missing (on a closed bus only the issuer may) and publishes what a crash left,
   * then reads the outbox every second for what another replica left (see {@link OUTBOX_POLL_MS}).
   */
  onApplicationBootstrap(): void {
    this.flushSoon();
    this.pollTimer = setInterval(() => {
      if (this.flushing === undefined && this.retryTimer === undefined) this.flushSoon();
    }, OUTBOX_POLL_MS);
    this.pollTimer.unref();
  }

  /**
   * Stops publishing, waiting for a flush in flight to end after its batch (NATS and the database
   * close after this hook): its rows leave the outbox, instead of meeting a closed database with their
   * entries in the bucket and being published again by the next start.
   */
  async onModuleDestroy(): Promise<void> {
    this.isDestroyed = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pollTimer);
    // a failed flush is left in the outbox, for the next start
    await this.flushing?.catch(() => undefined);
  }

  /** Ends a login session: every access token carrying this `sid`. Call `release()` after the commit. */
  sessionEntry(sessionId: string): RevocationEntry {
    return { kind: 'sid', id: sessionId, at: nowSeconds() };
  }

  /** Refuses every token of `subject` issued at or before `at` (epoch seconds). */
  subjectEntry(subject: string, at: number): RevocationEntry {
    return { kind: 'sub', id: subject, at };
  }

  /** Puts `entry` in the outbox within `tx`, the transaction of the change it follows from. */
  record(entry: RevocationEntry, tx: Queryable): Promise<void> {
    return this.outbox.add(entry, tx);
  }

  /** After the commit: this process refuses at once; the bucket gets it as soon as NATS acknowledges. */
  release(entry: RevocationEntry): void {
    this.revocations.apply(entry);
    this.hasMore = true;
    // the flush and its retries publish every caller's entries: none of them logs or traces as this one
    CallContext.detached(() => this.flushSoon());
  }

  /** Tells verifiers to refetch the JWKS (`auth.keys.rotated`). */
  async announceKeyRotation(kid: string): Promise<void> {
    const event: KeysRotatedEvent = { kid };
    (await this.nats.connection()).publish(AuthSubjects.keysRotated, JSON.stringify(event));
  }

  /** Publishes every pending entry now (tests; normally the background retry does). */
  async flush(): Promise<void> {
    this.flushing ??= this.publishUntilDone();
    await this.flushing;
  }

  // the flush ends in the same step as its last look at hasMore: a release after that starts a new
  // one, never joins this one (a `.finally` would end it a few microtasks later, a release between
  // the two waiting for the next poll)
  private async publishUntilDone(): Promise<void> {
    try {
      do {
        this.hasMore = false;
        await this.publishPending();
      } while (this.hasMore && !this.isDestroyed);
    } finally {
      this.flushing = undefined;
    }
  }

  private flushSoon(): void {
    if (this.isDestroyed) return;
    this.flush().then(
      (): void => {
        if (this.hasLoggedFailure) this.logger.log('Pending revocations published');
        this.hasLoggedFailure = false;
      },
      (error: unknown) => {
        if (!this.hasLoggedFailure) {
          const reason = error instanceof Error ? error.message : String(error);
          this.logger.warn(`Revocations kept in the outbox, retried until they are published (${reason})`);
          this.hasLoggedFailure = true;
        }
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.flushSoon();
        }, RETRY_MS);
        this.retryTimer.unref();
      },
    );
  }

  private async publishPending(): Promise<void> {
    const kv = await this.openBucket();
    const connection = await this.nats.connection();
    for (
      let batch = await this.outbox.pending(BATCH);
      batch.length > 0;
      batch = this.isDestroyed ? [] : await this.outbox.pending(BATCH)
    ) {
      // a batch at once, not an acknowledgement per entry in turn: a backlog left by a NATS outage
      // reaches the bucket within a second of NATS being back. Keys differ within a batch but for a
      // session ended twice, whose values both end it; put waits for the stream's acknowledgement,
      // and only then may the rows go
      await Promise.all(batch.map(({ entry }) => kv.put(revocationKey(entry), JSON.stringify(entry))));
      for (const { entry } of batch) connection.publish(AuthSubjects.revoked, JSON.stringify(entry));
      await this.outbox.remove(batch.map(({ seq }) => seq));
    }
  }

  private openBucket(): Promise<KV> {
    this.bucket ??= this.nats
      .connection()
      .then((connection) =>
        connection
          // checkAPI false: no `$JS.API.INFO`, which the closed bus allows no identity
          .jetstream({ checkAPI: false, timeout: ACK_TIMEOUT_MS })
          .views.kv(REVOCATION_BUCKET, { history: 1, ttl: REVOCATION_RETENTION_SECONDS * 1000 }),
      )
      .catch((error: unknown) => {
        this.bucket = undefined;
        throw error;
      });
    return this.bucket;
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
