import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';

import { recordOrderSettled } from '@relay/observability';

import type { OrdersConfig } from '../config/orders.config';
import type { Order } from './order';
import { OrdersRepository } from './orders.repository';

/**
 * How long past ORDERS_RPC_TIMEOUT_MS an order may stay pending before it is taken for abandoned: by
 * then the request that stored it has given up on inventory and settled it, unless it was cut off.
 */
export const ABANDONED_AFTER_TIMEOUT_MS = 5000;
const BATCH_SIZE = 100;

/**
 * Fails the orders whose request was cut off before it settled them (a crash, a lost database
 * connection; CONTRACT: every order ends in a final state), on every instance, at start and then with
 * each pass of `ReleaseSweeper`. Only orders pending well past the RPC timeout count: younger ones may
 * belong to a running instance still asking inventory. Inventory may have reserved them, so each is
 * stored `release_pending` for `ReleaseSweeper`; should its own request settle it after all, it finds
 * the order failed and releases it (`OrdersService`).
 */
@Injectable()
export class PendingOrdersRecovery {
  private readonly logger = new Logger(PendingOrdersRecovery.name);
  private readonly abandonedAfterMs: number;

  constructor(
    private readonly orders: OrdersRepository,
    config: ConfigService<OrdersConfig, true>,
  ) {
    this.abandonedAfterMs = config.get('ORDERS_RPC_TIMEOUT_MS', { infer: true }) + ABANDONED_AFTER_TIMEOUT_MS;
  }

  /** Settles the abandoned orders as `failed` (`interrupted`); answers the orders it failed. */
  async failAbandoned(): Promise<Order[]> {
    const failed: Order[] = [];
    for (const order of await this.orders.listPendingOlderThan(this.abandonedAfterMs, BATCH_SIZE)) {
      const settled = await this.orders.settle(order.id, 'failed', 'interrupted', true);
      if (settled !== undefined) {
        failed.push(settled);
        recordOrderSettled('failed');
      }
    }
    if (failed.length > 0) {
      this.logger.warn(
        `${failed.length} order(s) pending for over ${this.abandonedAfterMs / 1000} s (their request was cut off) ` +
          'are now failed; their stock will be released',
      );
    }
    return failed;
  }
}
