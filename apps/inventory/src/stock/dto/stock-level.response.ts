import { ApiProperty } from '@nestjs/swagger';

import { SKU_PATTERN, type StockLevel } from '@relay/contracts';

/** The documented shape of `StockLevel` (`@relay/contracts` carries no HTTP framework). */
export class StockLevelResponse implements StockLevel {
  @ApiProperty({ pattern: SKU_PATTERN.source, example: 'sku-apple' })
  sku!: string;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Units not reserved', example: 42 })
  available!: number;
}
