import { connect, type Msg } from 'nats';
import { Pool, type PoolClient } from 'pg';

import { InventorySubjects } from '@relay/contracts';

import { runTarget, targetConfig } from '../core/target-process';
import {
  FLOOR_POOL_SIZE,
  FLOOR_USER_ID,
  type FloorConfig,
  type FloorItem,
  type NestReply,
  type NestRequest,
} from './floor-config';

/** Thrown inside the reservation transaction: the order is answered 409, nothing is taken. */
class Refusal extends Error {
  constructor(readonly reason: 'insufficient_stock' | 'order_id_taken' | 'order_released') {
    super(reason);
  }
}

// The floor of inventory's side of an order: a nats.js responder doing what StockService.reserve and
// StockRpcController.reserve do on PostgreSQL (the same statements in the same transaction, the same
// reply and `inventory.reserved` event in Nest's wire format), with no Nest and no authentication.
runTarget<undefined>(async () => {
  const config = targetConfig<FloorConfig>();
  const pool = new Pool({ connectionString: config.databaseUrl, max: FLOOR_POOL_SIZE });
  pool.on('error', () => undefined);
  const connection = await connect({ servers: config.natsUrl, name: 'bench-floor-inventory' });
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const answer = async (message: Msg): Promise<void> => {
    const request = JSON.parse(decoder.decode(message.data)) as NestRequest<{
      orderId: string;
      items: FloorItem[];
    }>;
    const { orderId } = request.data;
    const items = mergeBySku(request.data.items);
    let reply: NestReply<{ orderId: string; reserved: true }>;
    try {
      const isNew = await reserve(pool, orderId, items);
      if (isNew) {
        const event = { orderId, userId: FLOOR_USER_ID, items };
        connection.publish(
          InventorySubjects.reserved,
          encoder.encode(JSON.stringify({ pattern: InventorySubjects.reserved, data: event })),
        );
      }
      reply = { id: request.id, response: { orderId, reserved: true }, isDisposed: true };
    } catch (error) {
      reply =
        error instanceof Refusal
          ? { id: request.id, err: { status: 409, reason: error.reason }, isDisposed: true }
          : { id: request.id, err: { status: 500, message: 'Internal server error' }, isDisposed: true };
    }
    message.respond(encoder.encode(JSON.stringify(reply)));
  };
  connection.subscribe(InventorySubjects.reserve, {
    queue: 'bench-floor-inventory',
    callback: (error, message) => {
      if (error === null) void answer(message);
    },
  });
  await connection.flush();
  return {
    data: undefined,
    close: async () => {
      await connection.drain();
      await pool.end();
    },
  };
});

/** StockService.reserve: the reservation row first, then every item, all or nothing. */
async function reserve(pool: Pool, orderId: string, items: FloorItem[]): Promise<boolean> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const isNew = await takeStock(client, orderId, items);
    await client.query('COMMIT');
    return isNew;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

async function takeStock(client: PoolClient, orderId: string, items: FloorItem[]): Promise<boolean> {
  const inserted = await client.query({
    name: 'insert-held',
    text: `INSERT INTO reservations (order_id, user_id, items, status) VALUES ($1, $2, $3, 'held')
     ON CONFLICT (order_id) DO NOTHING RETURNING order_id`,
    values: [orderId, FLOOR_USER_ID, JSON.stringify(items)],
  });
  if (inserted.rowCount !== 1) {
    const { rows } = await client.query<{ user_id: string; status: string }>({
      name: 'find-reservation',
      text: 'SELECT order_id, user_id, items, status FROM reservations WHERE order_id = $1',
      values: [orderId],
    });
    if (rows[0] === undefined || rows[0].user_id !== FLOOR_USER_ID) throw new Refusal('order_id_taken');
    if (rows[0].status === 'released') throw new Refusal('order_released');
    return false;
  }
  for (const item of items) {
    const taken = await client.query({
      name: 'take',
      text: 'UPDATE stock SET available = available - $2 WHERE sku = $1 AND available >= $2 RETURNING available',
      values: [item.sku, item.quantity],
    });
    if (taken.rowCount !== 1) throw new Refusal('insufficient_stock');
  }
  return true;
}

// Sorted by sku, as inventory does, so concurrent transactions lock stock rows in one order.
function mergeBySku(items: readonly FloorItem[]): FloorItem[] {
  const totals = new Map<string, number>();
  for (const item of items) totals.set(item.sku, (totals.get(item.sku) ?? 0) + item.quantity);
  return [...totals.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([sku, quantity]) => ({ sku, quantity }));
}
