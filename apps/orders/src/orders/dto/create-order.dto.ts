import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, ValidateNested } from 'class-validator';

import { MAX_ORDER_ITEMS, StockItemDto } from '@relay/contracts';

/** `POST /orders` body: 1..50 lines, each `{sku, quantity 1..1000}`; unknown fields are refused. */
export class CreateOrderDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_ORDER_ITEMS)
  @ValidateNested({ each: true })
  @Type(() => StockItemDto)
  items!: StockItemDto[];
}
