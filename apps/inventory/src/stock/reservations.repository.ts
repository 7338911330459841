import { Injectable } from '@nestjs/common';

import type { StockItem } from '@relay/contracts';
import type { Queryable } from '@relay/database';

/** A reservation row; `released` rows hold nothing. */
export interface Reservation {
  orderId: string;
  userId: string;
  items: StockItem[];
  status: 'held' | 'released';
}

interface ReservationRow {
  order_id: string;
  user_id: string;
  items: StockItem[];
  status: 'held' | 'released';
}

/** Rows of `reservations`; every method runs inside the caller's transaction. */
@Injectable()
export class ReservationsRepository {
  /**
   * Inserts a held reservation unless one exists for the order. On PostgreSQL a concurrent insert
   * of the same order waits for the first transaction, so one order is never reserved twice.
   */
  async insertHeld(tx: Queryable, reservation: Omit<Reservation, 'status'>): Promise<boolean> {
    const rows = await tx.query(
      `INSERT INTO reservations (order_id, user_id, items, status) VALUES ($1, $2, $3, 'held')
       ON CONFLICT (order_id) DO NOTHING RETURNING order_id`,
      [reservation.orderId, reservation.userId, JSON.stringify(reservation.items)],
    );
    return rows.length === 1;
  }

  async find(tx: Queryable, orderId: string): Promise<Reservation | undefined> {
    const [row] = await tx.query<ReservationRow>(
      'SELECT order_id, user_id, items, status FROM reservations WHERE order_id = $1',
      [orderId],
    );
    return row === undefined ? undefined : toReservation(row);
  }

  /**
   * Marks the order's held reservation released and answers its items, or `undefined` when nothing
   * is held for it by `userId` (any holder when `anyUser`, for admins).
   */
  async release(
    tx: Queryable,
    orderId: string,
    userId: string,
    anyUser: boolean,
  ): Promise<StockItem[] | undefined> {
    const [row] = await tx.query<Pick<ReservationRow, 'items'>>(
      `UPDATE reservations SET status = 'released', released_at = now()
       WHERE order_id = $1 AND status = 'held' AND (user_id = $2 OR $3)
       RETURNING items`,
      [orderId, userId, anyUser],
    );
    return row?.items;
  }

  /**
   * Records that an order was released before any reservation arrived, so a late reserve takes
   * nothing; `false` when a reservation row exists (possibly committed meanwhile).
   */
  async insertReleased(tx: Queryable, orderId: string, userId: string): Promise<boolean> {
    const rows = await tx.query(
      `INSERT INTO reservations (order_id, user_id, items, status, released_at) VALUES ($1, $2, '[]', 'released', now())
       ON CONFLICT (order_id) DO NOTHING RETURNING order_id`,
      [orderId, userId],
    );
    return rows.length === 1;
  }
}

function toReservation(row: ReservationRow): Reservation {
  return { orderId: row.order_id, userId: row.user_id, items: row.items, status: row.status };
}
