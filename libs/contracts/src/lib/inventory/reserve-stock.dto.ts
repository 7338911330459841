// @Type reads design-time metadata as soon as this module loads, even outside Nest.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsUUID, ValidateNested } from 'class-validator';

import { MAX_ORDER_ITEMS, StockItemDto } from './stock-item.dto';

/** `inventory.reserve` request: all items or none, idempotent per `orderId`. */
export class ReserveStockDto {
  @IsUUID()
  orderId!: string;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_ORDER_ITEMS)
  @ValidateNested({ each: true })
  @Type(() => StockItemDto)
  items!: StockItemDto[];
}

/** `inventory.reserve` answer. */
export interface ReserveStockResult {
  orderId: string;
  reserved: true;
}
