import { Inject, Injectable } from '@nestjs/common';

import { DATABASE, type Database } from '@relay/database';

/** How many of a key's newest failures count, and from when. */
export interface FailureCount {
  keyHash: string;
  maxFailures: number;
  since: Date;
}

/** login_failures table I/O: one row per failed login per throttle key, addressed by the key's SHA-256. */
@Injectable()
export class LoginFailuresRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  /** Records one failure at `failedAt` under each key, in one statement; returns the rows' ids. */
  async insert(keyHashes: readonly string[], failedAt: Date): Promise<string[]> {
    const rows = await this.db.query<{ id: number | string }>(
      'INSERT INTO login_failures (key_hash, failed_at) SELECT unnest($1::text[]), $2 RETURNING id',
      [keyHashes, failedAt],
    );
    return rows.map((row) => String(row.id));
  }

  /**
   * Per key, the `maxFailures`-th newest failure after `since` (the first to leave the window),
   * in one round trip; a key with fewer failures than that is absent from the map.
   */
  async oldestCounted(counts: readonly FailureCount[]): Promise<Map<string, Date>> {
    const rows = await this.db.query<{ key_hash: string; failed_at: Date | string }>(
      `SELECT k.key_hash, f.failed_at
       FROM unnest($1::text[], $2::int[], $3::timestamptz[]) AS k (key_hash, max_failures, since)
       CROSS JOIN LATERAL (
         SELECT failed_at FROM login_failures
         WHERE key_hash = k.key_hash AND failed_at > k.since
         ORDER BY failed_at DESC OFFSET k.max_failures - 1 LIMIT 1
       ) AS f`,
      [
        counts.map((count) => count.keyHash),
        counts.map((count) => count.maxFailures),
        counts.map((count) => count.since),
      ],
    );
    return new Map(rows.map((row) => [row.key_hash, new Date(row.failed_at)]));
  }

  /** Forgets these rows, and every failure of these keys. */
  async delete(ids: readonly string[], keyHashes: readonly string[] = []): Promise<void> {
    await this.db.query(
      'DELETE FROM login_failures WHERE id = ANY($1::bigint[]) OR key_hash = ANY($2::text[])',
      [ids, keyHashes],
    );
  }

  /**
   * Deletes every failure (of any key) at or before `cutoff`, in one statement. Housekeeping skips
   * rows another statement holds (SKIP LOCKED) rather than waiting for them, so replicas pruning at
   * once never block or deadlock each other or a login; what one skips, the next prune deletes.
   */
  async deleteExpired(cutoff: Date): Promise<void> {
    await this.db.query(
      `DELETE FROM login_failures WHERE id = ANY (ARRAY (
         SELECT id FROM login_failures WHERE failed_at <= $1 FOR UPDATE SKIP LOCKED
       ))`,
      [cutoff],
    );
  }
}
