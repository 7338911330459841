import { ApiProperty } from '@nestjs/swagger';

import {
  MAX_ITEM_QUANTITY,
  MAX_ORDER_ITEMS,
  SKU_PATTERN,
  StockItemDto,
  StockItemListDto,
} from '@relay/contracts';

/**
 * One order line as documented: the shared `StockItemDto` (its validation unchanged) with the API
 * description that `@relay/contracts`, free of any HTTP framework, does not carry.
 */
export class OrderLineDto extends StockItemDto {
  @ApiProperty({ description: 'The product', pattern: SKU_PATTERN.source, example: 'sku-apple' })
  override sku!: string;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: MAX_ITEM_QUANTITY, example: 2 })
  override quantity!: number;
}

/** `POST /orders` body: 1..50 lines, each `{sku, quantity 1..1000}`; unknown fields are refused. */
export class CreateOrderDto extends StockItemListDto {
  @ApiProperty({ type: [OrderLineDto], minItems: 1, maxItems: MAX_ORDER_ITEMS })
  override items!: StockItemDto[];
}
