import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';

/** Largest stock level an admin may set for one sku. */
export const MAX_STOCK_LEVEL = 1_000_000;

/** `PUT /inventory/:sku` body. */
export class SetStockDto {
  @ApiProperty({ type: 'integer', minimum: 0, maximum: MAX_STOCK_LEVEL, example: 100 })
  @IsInt()
  @Min(0)
  @Max(MAX_STOCK_LEVEL)
  available!: number;
}
