import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { KV } from 'nats';

import { RelayNatsClient, RevocationList } from '@relay/auth';
import {
  AuthSubjects,
  type KeysRotatedEvent,
  MAX_ACCESS_TOKEN_TTL_SECONDS,
  REVOCATION_BUCKET,
  type RevocationEntry,
} from '@relay/contracts';

/**
 * Writes revocations where every verifier reads them: the JetStream KV bucket (durable, replayed
 * by verifiers at start) plus an `auth.revoked` event (fast path). Values are ids and times only.
 */
@Injectable()
export class RevocationPublisher implements OnApplicationBootstrap {
  private readonly logger = new Logger(RevocationPublisher.name);
  private bucket?: Promise<KV>;

  constructor(
    private readonly nats: RelayNatsClient,
    private readonly revocations: RevocationList,
  ) {}

  /** Creates the bucket if missing: on a closed bus only the issuer may, and verifiers wait for it. */
  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.openBucket();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.logger.warn(
        `Revocation bucket ${REVOCATION_BUCKET} not opened yet (${reason}); retried on first use`,
      );
    }
  }

  /** Revokes one access token id. */
  revokeTokenId(tokenId: string): Promise<void> {
    return this.publish({ kind: 'jti', id: tokenId, at: nowSeconds() });
  }

  /** Ends a login session: every access token carrying this `sid`. */
  revokeSession(sessionId: string): Promise<void> {
    return this.publish({ kind: 'sid', id: sessionId, at: nowSeconds() });
  }

  /** Refuses every token of `subject` issued at or before `at` (epoch seconds). */
  revokeSubjectBefore(subject: string, at: number): Promise<void> {
    return this.publish({ kind: 'sub', id: subject, at });
  }

  /** Tells verifiers to refetch the JWKS (`auth.keys.rotated`). */
  async announceKeyRotation(kid: string): Promise<void> {
    const event: KeysRotatedEvent = { kid };
    (await this.nats.connection()).publish(AuthSubjects.keysRotated, JSON.stringify(event));
  }

  private async publish(entry: RevocationEntry): Promise<void> {
    const kv = await this.openBucket();
    await kv.put(`${entry.kind}.${entry.id}`, JSON.stringify(entry));
    // this process refuses at once, without waiting for its own watcher
    this.revocations.apply(entry);
    (await this.nats.connection()).publish(AuthSubjects.revoked, JSON.stringify(entry));
  }

  private openBucket(): Promise<KV> {
    this.bucket ??= this.nats
      .connection()
      .then((connection) =>
        connection
          // checkAPI false: no `$JS.API.INFO`, which the closed bus allows no identity
          .jetstream({ checkAPI: false })
          .views.kv(REVOCATION_BUCKET, { history: 1, ttl: MAX_ACCESS_TOKEN_TTL_SECONDS * 1000 }),
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
