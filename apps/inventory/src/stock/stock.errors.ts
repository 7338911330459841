/** A reservation could not take every item: a sku is unknown or has too little stock. */
export class InsufficientStockError extends Error {
  readonly reason = 'insufficient_stock';

  constructor(readonly sku: string) {
    super(`Not enough stock of ${sku}`);
    this.name = 'InsufficientStockError';
  }
}

/** The order id already has a reservation row this caller cannot reuse (released, or another user's). */
export class ReservationConflictError extends Error {
  constructor(
    readonly orderId: string,
    readonly reason: 'order_released' | 'order_id_taken',
  ) {
    super(
      reason === 'order_released'
        ? `Order ${orderId} was already released`
        : `Order ${orderId} belongs to another user`,
    );
    this.name = 'ReservationConflictError';
  }
}
