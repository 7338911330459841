import { IsUUID } from 'class-validator';

/** `inventory.release` request: gives back what the order holds, once. */
export class ReleaseStockDto {
  @IsUUID()
  orderId!: string;
}

/** `inventory.release` answer. */
export interface ReleaseStockResult {
  orderId: string;
  released: true;
}
