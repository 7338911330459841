import { eventually, type OrderBody, quantityOf, type RelayClient } from './relay-client';

const FINAL_STATUSES: readonly string[] = ['confirmed', 'rejected', 'failed'];

/** The orders service may need this long to give back what failed orders still hold (release retries). */
export const SETTLE_TIMEOUT_MS = 20_000;

/** An order of `ids` read by the admin (who may read every order); throws unless 200. */
export async function orderById(relay: RelayClient, adminToken: string, id: string): Promise<OrderBody> {
  const answer = await relay.getOrder(adminToken, id);
  if (answer.status !== 200) {
    throw new Error(`GET /orders/${id} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  return answer.body;
}

/**
 * Waits (bounded) until every order of `ids` is final and the stock held for `sku` (`initial` minus
 * what inventory says is available) equals the quantities of the confirmed ones, exactly
 * (CONTRACT: "Nothing lost, nothing oversold"). `ids` must be every order that ever touched `sku`.
 */
export async function expectSettled(
  relay: RelayClient,
  adminToken: string,
  sku: string,
  initial: number,
  ids: readonly string[],
  timeoutMs = SETTLE_TIMEOUT_MS,
): Promise<OrderBody[]> {
  let orders: OrderBody[] = [];
  let last = 'never read';
  await eventually(
    async () => {
      orders = await Promise.all(ids.map((id) => orderById(relay, adminToken, id)));
      const confirmed = quantityOf(
        orders.filter((order) => order.status === 'confirmed'),
        sku,
      );
      const held = initial - (await relay.available(adminToken, sku));
      last = `held ${held}, confirmed quantities ${confirmed}, statuses ${JSON.stringify(countBy(orders))}`;
      return orders.every((order) => FINAL_STATUSES.includes(order.status)) && held === confirmed;
    },
    timeoutMs,
    () => `orders of ${sku} did not settle to a true final state: ${last}`,
  );
  return orders;
}

function countBy(orders: readonly OrderBody[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const order of orders) {
    const key = order.reason ? `${order.status}:${order.reason}` : order.status;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
