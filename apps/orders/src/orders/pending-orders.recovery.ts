import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';

import { OrdersRepository } from './orders.repository';

/**
 * At start, fails the orders a crash left `pending` (CONTRACT: every order ends in a final state).
 * Their reservations cannot be released from here: inventory.release needs a caller token with
 * the customer or admin role, and orders keeps none. Each one is logged for an operator.
 */
@Injectable()
export class PendingOrdersRecovery implements OnApplicationBootstrap {
  private readonly logger = new Logger(PendingOrdersRecovery.name);

  constructor(private readonly orders: OrdersRepository) {}

  async onApplicationBootstrap(): Promise<void> {
    const pending = await this.orders.listPending();
    for (const order of pending) {
      const failed = await this.orders.settle(order.id, 'failed', 'interrupted');
      if (failed === undefined) continue;
      this.logger.warn(
        `Order ${order.id} was pending at start-up and is now failed; release skipped (no caller token): ` +
          `send inventory.release {orderId: "${order.id}"} with an admin token if inventory reserved it`,
      );
    }
  }
}
