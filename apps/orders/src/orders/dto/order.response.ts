import type { StockItem } from '@relay/contracts';

import type { Order, OrderStatus } from '../order';

/** An order on the HTTP API. */
export interface OrderResponse {
  id: string;
  userId: string;
  status: OrderStatus;
  items: StockItem[];
  createdAt: string;
  /** Why a `rejected` or `failed` order ended so; absent otherwise. */
  reason?: string;
}

export function toOrderResponse(order: Order): OrderResponse {
  return {
    id: order.id,
    userId: order.userId,
    status: order.status,
    items: order.items,
    createdAt: order.createdAt.toISOString(),
    ...(order.reason === null ? {} : { reason: order.reason }),
  };
}
