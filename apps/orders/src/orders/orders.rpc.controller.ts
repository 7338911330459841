import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';

import { CurrentPrincipal, type Principal } from '@relay/auth';
import { InventorySubjects } from '@relay/contracts';

import { InventoryReservedDto } from './dto/inventory-reserved.dto';
import { OrdersService } from './orders.service';

/** NATS events consumed by orders; the global guards authenticate them like every handler. */
@Controller()
export class OrdersRpcController {
  private readonly logger = new Logger(OrdersRpcController.name);

  constructor(private readonly orders: OrdersService) {}

  @EventPattern(InventorySubjects.reserved)
  async inventoryReserved(
    @Payload() event: InventoryReservedDto,
    @CurrentPrincipal() principal?: Principal,
  ): Promise<void> {
    // Only the order's owner (whose token inventory forwarded) or an admin may acknowledge it.
    const isAllowed =
      principal !== undefined && (principal.subject === event.userId || principal.roles.includes('admin'));
    if (!isAllowed || !(await this.orders.acknowledgeReservation(event.orderId, event.userId))) {
      this.logger.warn(
        `Ignored ${InventorySubjects.reserved} for order ${event.orderId}: no such order of that caller`,
      );
    }
  }
}
