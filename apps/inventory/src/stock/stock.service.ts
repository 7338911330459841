import { Inject, Injectable } from '@nestjs/common';

import type { ReleaseStockResult, ReserveStockResult, StockItem, StockLevel } from '@relay/contracts';
import { DATABASE, type Database, type Queryable } from '@relay/database';

import { ReservationsRepository } from './reservations.repository';
import { ForeignReservationError, InsufficientStockError, ReservationConflictError } from './stock.errors';
import { StockRepository } from './stock.repository';

/** Who asks for a reservation or release. */
export interface StockCaller {
  userId: string;
  /** May release any user's order (admins, and services holding scope `inventory:release`). */
  canReleaseAny: boolean;
}

/** Outcome of `reserve`: `isNew` is false when the order had been reserved before (nothing more taken). */
export interface Reservation {
  result: ReserveStockResult;
  items: StockItem[];
  isNew: boolean;
}

/** Stock rules: all-or-nothing reservations, idempotent per order, released exactly once. */
@Injectable()
export class StockService {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    private readonly stock: StockRepository,
    private readonly reservations: ReservationsRepository,
  ) {}

  find(sku: string): Promise<StockLevel | undefined> {
    return this.stock.find(sku);
  }

  set(sku: string, available: number): Promise<StockLevel> {
    return this.stock.upsert(sku, available);
  }

  /**
   * Takes every item or none in one transaction. Throws `InsufficientStockError` (unknown skus
   * count as insufficient) or `ReservationConflictError`; a repeat of a held order takes nothing.
   */
  async reserve(caller: StockCaller, orderId: string, requested: readonly StockItem[]): Promise<Reservation> {
    const items = mergeBySku(requested);
    const isNew = await this.database.transaction(async (tx) => {
      // The reservation row goes first: a concurrent reserve of the same order waits on its key.
      if (!(await this.reservations.insertHeld(tx, { orderId, userId: caller.userId, items }))) {
        await this.assertRepeat(tx, caller, orderId, items);
        return false;
      }
      for (const item of items) {
        if (!(await this.stock.take(tx, item.sku, item.quantity))) throw new InsufficientStockError(item.sku);
      }
      return true;
    });
    return { result: { orderId, reserved: true }, items, isNew };
  }

  /**
   * Gives back what the order holds, once. An order never reserved is marked released so that a
   * late reserve (after the caller gave up on it) takes nothing. Throws `ForeignReservationError`
   * when another user's reservation holds the stock and the caller may not release any.
   */
  async release(caller: StockCaller, orderId: string): Promise<ReleaseStockResult> {
    await this.database.transaction(async (tx) => {
      let items = await this.reservations.release(tx, orderId, caller.userId, caller.canReleaseAny);
      // A reserve committing between the update and the insert makes the insert a no-op: retry the update.
      if (items === undefined && !(await this.reservations.insertReleased(tx, orderId, caller.userId))) {
        items = await this.reservations.release(tx, orderId, caller.userId, caller.canReleaseAny);
        // nothing held for this caller, and a row exists: released already (a repeat), or held by another
        if (items === undefined && (await this.reservations.find(tx, orderId))?.status === 'held') {
          throw new ForeignReservationError(orderId);
        }
      }
      for (const item of items ?? []) {
        await this.stock.giveBack(tx, item.sku, item.quantity);
      }
    });
    return { orderId, released: true };
  }

  /** A reserve of an order that has a reservation row must repeat it: same user, still held, same items. */
  private async assertRepeat(
    tx: Queryable,
    caller: StockCaller,
    orderId: string,
    items: readonly StockItem[],
  ): Promise<void> {
    const existing = await this.reservations.find(tx, orderId);
    if (existing === undefined || existing.userId !== caller.userId) {
      throw new ReservationConflictError(orderId, 'order_id_taken');
    }
    if (existing.status === 'released') throw new ReservationConflictError(orderId, 'order_released');
    const isSame =
      existing.items.length === items.length &&
      existing.items.every(
        ({ sku, quantity }, index) => sku === items[index].sku && quantity === items[index].quantity,
      );
    if (!isSame) throw new ReservationConflictError(orderId, 'order_items_differ');
  }
}

// Sorted by sku so concurrent transactions lock stock rows in one order (no deadlocks).
function mergeBySku(items: readonly StockItem[]): StockItem[] {
  const totals = new Map<string, number>();
  for (const item of items) totals.set(item.sku, (totals.get(item.sku) ?? 0) + item.quantity);
  return [...totals.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([sku, quantity]) => ({ sku, quantity }));
}
