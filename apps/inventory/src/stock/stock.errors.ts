/** A reservation could not take every item: a sku is unknown or has too little stock. */
export class InsufficientStockError extends Error {
  readonly reason = 'insufficient_stock';

  // the message never names the sku, which the caller sent and may be a secret pasted in by mistake
  constructor(readonly sku: string) {
    super('Not enough stock');
    this.name = 'InsufficientStockError';
  }
}

/** `inventory.release` of an order whose stock another user holds: the caller may not release it. */
export class ForeignReservationError extends Error {
  constructor(readonly orderId: string) {
    super(`No reservation of yours for order ${orderId}`);
    this.name = 'ForeignReservationError';
  }
}

/**
 * The order id already has a reservation row this caller cannot reuse: released, another user's, or
 * holding other items (a repeat reserves the same items; other ones would be answered reserved, unheld).
 */
export class ReservationConflictError extends Error {
  constructor(
    readonly orderId: string,
    readonly reason: ReservationConflictReason,
  ) {
    super(CONFLICT_MESSAGES[reason](orderId));
    this.name = 'ReservationConflictError';
  }
}

export type ReservationConflictReason = 'order_released' | 'order_id_taken' | 'order_items_differ';

const CONFLICT_MESSAGES: Record<ReservationConflictReason, (orderId: string) => string> = {
  order_released: (orderId) => `Order ${orderId} was already released`,
  order_id_taken: (orderId) => `Order ${orderId} belongs to another user`,
  order_items_differ: (orderId) => `Order ${orderId} was reserved with other items`,
};
