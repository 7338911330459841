import type { StockItem } from './stock-item.dto';

/** `inventory.reserved` event, emitted after a confirmed reservation. */
export interface InventoryReservedEvent {
  orderId: string;
  userId: string;
  items: StockItem[];
}
