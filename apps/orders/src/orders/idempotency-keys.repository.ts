import { Injectable } from '@nestjs/common';

import type { Queryable } from '@relay/database';

/** Rows of `idempotency_keys` (per user); every method runs inside the caller's transaction. */
@Injectable()
export class IdempotencyKeysRepository {
  /**
   * Claims `key` for `orderId`; `false` when the user already used it. On PostgreSQL a concurrent
   * claim of the same key waits for the first transaction and then sees its row.
   */
  async claim(tx: Queryable, userId: string, key: string, orderId: string): Promise<boolean> {
    const rows = await tx.query(
      `INSERT INTO idempotency_keys (user_id, key, order_id) VALUES ($1, $2, $3)
       ON CONFLICT (user_id, key) DO NOTHING RETURNING order_id`,
      [userId, key, orderId],
    );
    return rows.length === 1;
  }

  async findOrderId(tx: Queryable, userId: string, key: string): Promise<string | undefined> {
    const [row] = await tx.query<{ order_id: string }>(
      'SELECT order_id FROM idempotency_keys WHERE user_id = $1 AND key = $2',
      [userId, key],
    );
    return row?.order_id;
  }
}
