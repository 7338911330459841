import { channel } from 'node:diagnostics_channel';

import { Counter, type Registry } from 'prom-client';

import { onChannel, type Unsubscribe } from './channel-subscription';

/** The final statuses of an order. */
export type SettledOrderStatus = 'confirmed' | 'rejected' | 'failed';

/** `node:diagnostics_channel` name on which {@link recordOrderSettled} publishes each order reaching a final status. */
export const ORDER_SETTLED_CHANNEL = 'relay.orders.settled';
const orderSettled = channel(ORDER_SETTLED_CHANNEL);

/**
 * Counts one order reaching its final status (`relay_orders_settled_total`). Call it once per order,
 * where the order leaves `pending`; it costs one property read while no metrics are collected.
 */
export function recordOrderSettled(status: SettledOrderStatus): void {
  if (orderSettled.hasSubscribers) orderSettled.publish(status);
}

/** Orders by final status, as the orders app reports them through {@link recordOrderSettled}. */
export function orderMetrics(registry: Registry): Unsubscribe {
  const settled = new Counter({
    name: 'relay_orders_settled_total',
    help: 'Orders that reached a final status (confirmed, rejected, failed)',
    labelNames: ['status'],
    registers: [registry],
  });
  return onChannel<SettledOrderStatus>(ORDER_SETTLED_CHANNEL, (status) => settled.labels(status).inc());
}
