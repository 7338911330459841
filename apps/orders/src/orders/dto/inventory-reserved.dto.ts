import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsInt,
  IsObject,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

import {
  type InventoryReservedEvent,
  MAX_ITEM_QUANTITY,
  MAX_ORDER_ITEMS,
  SKU_PATTERN,
  type StockItem,
} from '@relay/contracts';

/**
 * One line of the event: what inventory reserved for a sku. Inventory adds up an order's lines of the
 * same sku, so one line may hold every line's quantity (fifty lines of 1000).
 */
export class ReservedItemDto implements StockItem {
  @IsString()
  @Matches(SKU_PATTERN)
  sku!: string;

  @IsInt()
  @Min(1)
  @Max(MAX_ITEM_QUANTITY * MAX_ORDER_ITEMS)
  quantity!: number;
}

/** `inventory.reserved` event payload as validated by orders. */
export class InventoryReservedDto implements InventoryReservedEvent {
  @IsUUID()
  orderId!: string;

  @IsString()
  @MaxLength(255)
  userId!: string;

  @IsArray()
  @ArrayMaxSize(MAX_ORDER_ITEMS)
  @IsObject({ each: true }) // ValidateNested alone passes an element that is itself an array
  @ValidateNested({ each: true })
  @Type(() => ReservedItemDto)
  items!: ReservedItemDto[];
}
