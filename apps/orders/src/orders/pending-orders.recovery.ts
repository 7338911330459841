import { Injectable, Logger } from '@nestjs/common';

import { recordOrderSettled } from '@relay/observability';

import type { Order } from './order';
import { OrdersRepository } from './orders.repository';

/**
 * Fails the orders a crash left `pending` (CONTRACT: every order ends in a final state). Inventory
 * may have reserved them before the crash, so each is stored `release_pending` for `ReleaseSweeper`.
 */
@Injectable()
export class PendingOrdersRecovery {
  private readonly logger = new Logger(PendingOrdersRecovery.name);

  constructor(private readonly orders: OrdersRepository) {}

  /** Settles every pending order as `failed` (`interrupted`); answers the orders it failed. */
  async failInterrupted(): Promise<Order[]> {
    const failed: Order[] = [];
    for (const order of await this.orders.listPending()) {
      const settled = await this.orders.settle(order.id, 'failed', 'interrupted', true);
      if (settled !== undefined) {
        failed.push(settled);
        recordOrderSettled('failed');
      }
    }
    if (failed.length > 0) {
      this.logger.warn(
        `${failed.length} order(s) pending at start-up are now failed; their stock will be released`,
      );
    }
    return failed;
  }
}
