import { Inject, Injectable } from '@nestjs/common';

import type { StockItem } from '@relay/contracts';
import { DATABASE, type Database, type Queryable } from '@relay/database';

import type { Order, OrderStatus } from './order';

interface OrderRow {
  id: string;
  user_id: string;
  status: OrderStatus;
  items: StockItem[];
  reason: string | null;
  created_at: Date | string;
  updated_at: Date | string;
  inventory_acknowledged_at: Date | string | null;
  release_pending: boolean;
}

const COLUMNS =
  'id, user_id, status, items, reason, created_at, updated_at, inventory_acknowledged_at, release_pending';

/** Rows of `orders`. */
@Injectable()
export class OrdersRepository {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  async insertPending(tx: Queryable, order: Pick<Order, 'id' | 'userId' | 'items'>): Promise<Order> {
    const [row] = await tx.query<OrderRow>(
      `INSERT INTO orders (id, user_id, status, items) VALUES ($1, $2, 'pending', $3) RETURNING ${COLUMNS}`,
      [order.id, order.userId, JSON.stringify(order.items)],
    );
    return toOrder(row);
  }

  async find(id: string, tx: Queryable = this.database): Promise<Order | undefined> {
    const [row] = await tx.query<OrderRow>(`SELECT ${COLUMNS} FROM orders WHERE id = $1`, [id]);
    return row === undefined ? undefined : toOrder(row);
  }

  /**
   * The user's orders, newest first (ties by id), at most `limit` (all without it; LIMIT NULL is
   * PostgreSQL's LIMIT ALL): from the newest, or those listed
   * after the order `after` (which must be the user's). The cursor's own row is compared in SQL, so a
   * timestamp's microseconds, which a `Date` drops, still order the pages exactly.
   */
  async listByUser(userId: string, limit: number | undefined, after?: string): Promise<Order[]> {
    const rows =
      after === undefined
        ? await this.database.query<OrderRow>(
            `SELECT ${COLUMNS} FROM orders WHERE user_id = $1 ORDER BY created_at DESC, id LIMIT $2`,
            [userId, limit ?? null],
          )
        : await this.database.query<OrderRow>(
            `SELECT ${COLUMNS} FROM orders
             WHERE user_id = $1
               AND (created_at < (SELECT created_at FROM orders WHERE id = $2 AND user_id = $1)
                 OR (created_at = (SELECT created_at FROM orders WHERE id = $2 AND user_id = $1) AND id > $2))
             ORDER BY created_at DESC, id LIMIT $3`,
            [userId, after, limit ?? null],
          );
    return rows.map(toOrder);
  }

  /** Up to `limit` orders still pending `olderThanMs` after they were stored (by the database's clock), oldest first. */
  async listPendingOlderThan(olderThanMs: number, limit: number): Promise<Order[]> {
    const rows = await this.database.query<OrderRow>(
      `SELECT ${COLUMNS} FROM orders
       WHERE status = 'pending' AND created_at < clock_timestamp() - make_interval(secs => $1)
       ORDER BY created_at LIMIT $2`,
      [olderThanMs / 1000, limit],
    );
    return rows.map(toOrder);
  }

  /**
   * Moves a pending order to its final status; `undefined` when it was no longer pending. A `failed`
   * order that inventory may have reserved is stored `release_pending` in the same statement, so a
   * crash right after cannot lose the release.
   */
  async settle(
    id: string,
    status: Exclude<OrderStatus, 'pending'>,
    reason: string | null,
    isReleasePending = false,
  ): Promise<Order | undefined> {
    const [row] = await this.database.query<OrderRow>(
      `UPDATE orders SET status = $2, reason = $3, release_pending = $4, updated_at = clock_timestamp()
       WHERE id = $1 AND status = 'pending' RETURNING ${COLUMNS}`,
      [id, status, reason, isReleasePending],
    );
    return row === undefined ? undefined : toOrder(row);
  }

  /** Failed orders whose release inventory has not acknowledged yet, oldest first. */
  async listReleasePending(limit: number): Promise<Order[]> {
    const rows = await this.database.query<OrderRow>(
      `SELECT ${COLUMNS} FROM orders WHERE release_pending ORDER BY updated_at, id LIMIT $1`,
      [limit],
    );
    return rows.map(toOrder);
  }

  /** Records that inventory acknowledged the release of a failed order. */
  async clearReleasePending(id: string): Promise<void> {
    await this.database.query('UPDATE orders SET release_pending = false WHERE id = $1', [id]);
  }

  /** Records the `inventory.reserved` event once; `false` when no such order of that user exists. */
  async acknowledgeInventory(id: string, userId: string): Promise<boolean> {
    const rows = await this.database.query(
      `UPDATE orders SET inventory_acknowledged_at = COALESCE(inventory_acknowledged_at, clock_timestamp())
       WHERE id = $1 AND user_id = $2 RETURNING id`,
      [id, userId],
    );
    return rows.length === 1;
  }
}

function toOrder(row: OrderRow): Order {
  return {
    id: row.id,
    userId: row.user_id,
    status: row.status,
    items: row.items,
    reason: row.reason,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    inventoryAcknowledgedAt:
      row.inventory_acknowledged_at === null ? null : new Date(row.inventory_acknowledged_at),
    isReleasePending: row.release_pending,
  };
}
