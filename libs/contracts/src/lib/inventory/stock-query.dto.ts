import { IsString, Matches } from 'class-validator';

import { SKU_PATTERN } from './stock-item.dto';

/** `inventory.stock` request. */
export class StockQueryDto {
  @IsString()
  @Matches(SKU_PATTERN)
  sku!: string;
}

/** Stock of one sku, on HTTP and on NATS. */
export interface StockLevel {
  sku: string;
  available: number;
}
