import { IsInt, Max, Min } from 'class-validator';

/** Largest stock level an admin may set for one sku. */
export const MAX_STOCK_LEVEL = 1_000_000;

/** `PUT /inventory/:sku` body. */
export class SetStockDto {
  @IsInt()
  @Min(0)
  @Max(MAX_STOCK_LEVEL)
  available!: number;
}
