import { Module } from '@nestjs/common';

import { InventoryClient } from './inventory.client';

/** Provides `InventoryClient` (RelayNatsClient and ConfigService come from global modules). */
@Module({
  providers: [InventoryClient],
  exports: [InventoryClient],
})
export class InventoryClientModule {}
