import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';

import { CurrentPrincipal, type Principal } from '@relay/auth';
import { InventorySubjects, ServiceScopes } from '@relay/contracts';

import { InventoryReservedDto } from './dto/inventory-reserved.dto';
import { OrdersService } from './orders.service';

/** NATS events consumed by orders; the global guards authenticate them like every handler. */
@Controller()
export class OrdersRpcController {
  private readonly logger = new Logger(OrdersRpcController.name);

  constructor(private readonly orders: OrdersService) {}

  // Inventory sends this event on its own behalf: with its service token (audience `orders`) when it
  // has client credentials, since a token exchanged for inventory is refused here; else with the
  // customer's forwarded token. Either way the order is matched on its id and owner (`userId`).
  @EventPattern(InventorySubjects.reserved)
  async inventoryReserved(
    @Payload() event: InventoryReservedDto,
    @CurrentPrincipal() principal?: Principal,
  ): Promise<void> {
    if (!isAllowedToAcknowledge(principal, event.userId)) {
      this.logger.warn(
        `Ignored ${InventorySubjects.reserved} for order ${event.orderId}: sender may not report it`,
      );
      return;
    }
    if (!(await this.orders.acknowledgeReservation(event.orderId, event.userId))) {
      this.logger.warn(
        `Ignored ${InventorySubjects.reserved} for order ${event.orderId}: no such order of that user`,
      );
    }
  }
}

function isAllowedToAcknowledge(principal: Principal | undefined, userId: string): boolean {
  if (principal === undefined) return false;
  return (
    principal.subject === userId ||
    principal.roles.includes('admin') ||
    principal.scopes.includes(ServiceScopes.ordersAcknowledge)
  );
}
