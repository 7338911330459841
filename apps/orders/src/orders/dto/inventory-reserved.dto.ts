import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsString, IsUUID, MaxLength, ValidateNested } from 'class-validator';

import { type InventoryReservedEvent, MAX_ORDER_ITEMS, StockItemDto } from '@relay/contracts';

/** `inventory.reserved` event payload as validated by orders. */
export class InventoryReservedDto implements InventoryReservedEvent {
  @IsUUID()
  orderId!: string;

  @IsString()
  @MaxLength(255)
  userId!: string;

  @IsArray()
  @ArrayMaxSize(MAX_ORDER_ITEMS)
  @ValidateNested({ each: true })
  @Type(() => StockItemDto)
  items!: StockItemDto[];
}
