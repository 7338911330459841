import { IsUUID } from 'class-validator';

import { StockItemListDto } from './stock-item.dto';

/** `inventory.reserve` request: all items or none, idempotent per `orderId`. */
export class ReserveStockDto extends StockItemListDto {
  @IsUUID()
  orderId!: string;
}

/** `inventory.reserve` answer. */
export interface ReserveStockResult {
  orderId: string;
  reserved: true;
}
