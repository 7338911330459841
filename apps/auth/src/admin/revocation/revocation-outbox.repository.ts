import { Inject, Injectable } from '@nestjs/common';

import type { RevocationEntry } from '@relay/contracts';
import { DATABASE, type Database, type Queryable } from '@relay/database';

interface OutboxRow {
  seq: string | number;
  kind: RevocationEntry['kind'];
  entry_id: string;
  at: string | number;
}

/** A revocation waiting to be acknowledged by the bucket. */
export interface PendingRevocation {
  seq: number;
  entry: RevocationEntry;
}

/** The revocation outbox table: written in the transaction of the change, emptied as NATS acknowledges. */
@Injectable()
export class RevocationOutboxRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async add(entry: RevocationEntry, tx: Queryable): Promise<void> {
    await tx.query('INSERT INTO revocation_outbox (kind, entry_id, at) VALUES ($1, $2, $3)', [
      entry.kind,
      entry.id,
      entry.at,
    ]);
  }

  /** The oldest pending entries first. */
  async pending(limit: number): Promise<PendingRevocation[]> {
    const rows = await this.db.query<OutboxRow>(
      'SELECT seq, kind, entry_id, at FROM revocation_outbox ORDER BY seq LIMIT $1',
      [limit],
    );
    return rows.map((row) => ({
      seq: Number(row.seq),
      entry: { kind: row.kind, id: row.entry_id, at: Number(row.at) } as RevocationEntry,
    }));
  }

  async remove(seqs: readonly number[]): Promise<void> {
    await this.db.query('DELETE FROM revocation_outbox WHERE seq = ANY($1::bigint[])', [seqs]);
  }
}
