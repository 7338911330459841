import type { StockItem } from '@relay/contracts';

/** Life of an order: `pending` until inventory answers, then final. */
export type OrderStatus = 'pending' | 'confirmed' | 'rejected' | 'failed';

/** Why an order ended `rejected` or `failed`. */
export type OrderFailureReason =
  | 'insufficient_stock'
  | 'inventory_timeout'
  | 'inventory_unavailable'
  | 'inventory_unauthorized'
  | 'inventory_forbidden'
  | 'interrupted';

/** An order as stored. */
export interface Order {
  id: string;
  userId: string;
  status: OrderStatus;
  items: StockItem[];
  reason: string | null;
  createdAt: Date;
  updatedAt: Date;
  inventoryAcknowledgedAt: Date | null;
  /** A `failed` order whose stock inventory has not yet confirmed released. */
  isReleasePending: boolean;
}
