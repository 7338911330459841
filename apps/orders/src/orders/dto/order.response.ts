import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import type { StockItem } from '@relay/contracts';

import type { Order, OrderStatus } from '../order';
import { OrderLineDto } from './create-order.dto';

const ORDER_STATUSES: readonly OrderStatus[] = ['pending', 'confirmed', 'rejected', 'failed'];

/** An order on the HTTP API. */
export class OrderResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ description: "The owner's user id (`sub`)" })
  userId!: string;

  @ApiProperty({ enum: ORDER_STATUSES, example: 'confirmed' })
  status!: OrderStatus;

  @ApiProperty({ type: [OrderLineDto] })
  items!: StockItem[];

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  /** Why a `rejected` or `failed` order ended so; absent otherwise. */
  @ApiPropertyOptional({
    description: 'Why a `rejected` or `failed` order ended so',
    example: 'inventory_timeout',
  })
  reason?: string;
}

/** `409` of `POST /orders`: inventory could not reserve every line. */
export class OrderRejectedResponse {
  @ApiProperty({ enum: ['rejected'] })
  status!: 'rejected';

  @ApiProperty({ example: 'insufficient_stock' })
  reason!: string;
}

/** `503` of `POST /orders`: the order was not placed (inventory silent) or its first request still runs. */
export class OrderNotPlacedResponse {
  @ApiProperty({ enum: ['failed', 'pending'] })
  status!: 'failed' | 'pending';

  @ApiProperty({ format: 'uuid', description: 'The order, kept as `failed` (or still `pending`)' })
  id!: string;

  @ApiPropertyOptional({ example: 'inventory_timeout' })
  reason?: string | null;

  @ApiProperty()
  message!: string;
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
