import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { connect, type NatsConnection } from 'nats';
import { Pool } from 'pg';

import { InventorySubjects } from '@relay/contracts';

import { runTarget, targetConfig } from '../core/target-process';
import {
  FLOOR_POOL_SIZE,
  FLOOR_USER_ID,
  type FloorConfig,
  type FloorItem,
  type FloorOrdersReady,
  type NestReply,
  type NestRequest,
} from './floor-config';

const COLUMNS =
  'id, user_id, status, items, reason, created_at, updated_at, inventory_acknowledged_at, release_pending';
const RPC_TIMEOUT_MS = 5000;
const MAX_BODY_BYTES = 64 * 1024;

interface OrderRow {
  id: string;
  user_id: string;
  status: string;
  items: FloorItem[];
  reason: string | null;
  created_at: Date;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// The floor of `POST /orders`: node:http, nats.js and pg doing what orders does for an order without
// an Idempotency-Key (the same statements: insert pending, ask inventory.reserve, settle, and record
// the inventory.reserved event), with no Nest, no validation library and no authentication.
runTarget<FloorOrdersReady>(async () => {
  const config = targetConfig<FloorConfig>();
  const pool = new Pool({ connectionString: config.databaseUrl, max: FLOOR_POOL_SIZE });
  pool.on('error', () => undefined);
  const connection = await connect({ servers: config.natsUrl, name: 'bench-floor-orders' });
  connection.subscribe(InventorySubjects.reserved, {
    callback: (error, message) => {
      if (error !== null) return;
      const event = JSON.parse(decoder.decode(message.data)) as { data: { orderId: string; userId: string } };
      void acknowledge(pool, event.data.orderId, event.data.userId).catch(() => undefined);
    },
  });
  const server = createServer((request, response) => {
    handle(pool, connection, request, response).catch(() => send(response, 500, { message: 'error' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await connection.flush();
  const { port } = server.address() as AddressInfo;
  return {
    data: { url: `http://127.0.0.1:${port}` },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await connection.drain();
      await pool.end();
    },
  };
});

async function handle(
  pool: Pool,
  connection: NatsConnection,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  if (request.method !== 'POST' || request.url !== '/orders') {
    request.resume();
    return send(response, 404, { message: 'Not found' });
  }
  const items = parseItems(await readBody(request));
  if (items === undefined) return send(response, 400, { message: 'items must be [{ sku, quantity }]' });
  const id = randomUUID();
  await pool.query({
    name: 'insert-pending',
    text: `INSERT INTO orders (id, user_id, status, items) VALUES ($1, $2, 'pending', $3) RETURNING ${COLUMNS}`,
    values: [id, FLOOR_USER_ID, JSON.stringify(items)],
  });
  const reply = await reserve(connection, id, items);
  const [status, reason] =
    reply === 'timeout'
      ? (['failed', 'inventory_timeout'] as const)
      : reply.err === undefined
        ? (['confirmed', null] as const)
        : reply.err.status === 409
          ? (['rejected', reply.err.reason ?? 'insufficient_stock'] as const)
          : (['failed', 'inventory_unavailable'] as const);
  const { rows } = await pool.query<OrderRow>({
    name: 'settle',
    text: `UPDATE orders SET status = $2, reason = $3, release_pending = $4, updated_at = clock_timestamp()
     WHERE id = $1 AND status = 'pending' RETURNING ${COLUMNS}`,
    values: [id, status, reason, status === 'failed'],
  });
  const order = rows[0];
  if (order === undefined || order.status !== 'confirmed') {
    return send(response, status === 'rejected' ? 409 : 503, { status, reason });
  }
  send(response, 201, {
    id: order.id,
    userId: order.user_id,
    status: order.status,
    items: order.items,
    createdAt: order.created_at.toISOString(),
  });
}

/** `inventory.reserve` as Nest's ClientNats sends it; `'timeout'` when no answer comes in time. */
async function reserve(
  connection: NatsConnection,
  orderId: string,
  items: FloorItem[],
): Promise<NestReply<unknown> | 'timeout'> {
  const request: NestRequest<{ orderId: string; items: FloorItem[] }> = {
    pattern: InventorySubjects.reserve,
    data: { orderId, items },
    id: randomUUID(),
  };
  try {
    const message = await connection.request(
      InventorySubjects.reserve,
      encoder.encode(JSON.stringify(request)),
      { timeout: RPC_TIMEOUT_MS },
    );
    return JSON.parse(decoder.decode(message.data)) as NestReply<unknown>;
  } catch {
    return 'timeout';
  }
}

/** OrdersRepository.acknowledgeInventory: the `inventory.reserved` event, recorded once. */
async function acknowledge(pool: Pool, orderId: string, userId: string): Promise<void> {
  await pool.query({
    name: 'acknowledge',
    text: `UPDATE orders SET inventory_acknowledged_at = COALESCE(inventory_acknowledged_at, clock_timestamp())
     WHERE id = $1 AND user_id = $2 RETURNING id`,
    values: [orderId, userId],
  });
}

function parseItems(body: string): FloorItem[] | undefined {
  try {
    const { items } = JSON.parse(body) as { items?: unknown };
    if (!Array.isArray(items) || items.length === 0) return undefined;
    const isItem = (item: unknown): item is FloorItem => {
      const candidate = item as Partial<FloorItem> | null;
      return (
        typeof candidate?.sku === 'string' &&
        Number.isInteger(candidate.quantity) &&
        (candidate.quantity ?? 0) > 0
      );
    };
    return items.every(isItem) ? items.map(({ sku, quantity }) => ({ sku, quantity })) : undefined;
  } catch {
    return undefined;
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) request.destroy(new Error('body too large'));
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
