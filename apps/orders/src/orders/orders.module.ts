import { Module } from '@nestjs/common';

import { InventoryClientModule } from '../inventory-client/inventory-client.module';
import { IdempotencyKeysRepository } from './idempotency-keys.repository';
import { OrdersController } from './orders.controller';
import { OrdersRepository } from './orders.repository';
import { OrdersRpcController } from './orders.rpc.controller';
import { OrdersService } from './orders.service';
import { PendingOrdersRecovery } from './pending-orders.recovery';
import { ReleaseSweeper } from './release-sweeper';

@Module({
  imports: [InventoryClientModule],
  controllers: [OrdersController, OrdersRpcController],
  providers: [
    OrdersService,
    OrdersRepository,
    IdempotencyKeysRepository,
    PendingOrdersRecovery,
    ReleaseSweeper,
  ],
})
export class OrdersModule {}
