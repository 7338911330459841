import { join } from 'node:path';

import { Client } from 'pg';

// The floor builds its tables with the apps' own migrations (type-only imports inside), so its schema
// cannot drift from Relay's; no library exports them.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { inventoryMigrations } from '../../../apps/inventory/src/database/migrations';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { ordersMigrations } from '../../../apps/orders/src/database/migrations';
import { type BenchChild, forkTarget } from '../core/child';
import { type PrivateNats, startPrivateNats } from '../core/nats-server';
import { createStackDatabases, type StackDatabases } from '../e2e/databases';
import type { FloorConfig, FloorOrdersReady } from './floor-config';

/** The floor of the order path, serving `POST /orders` at `url`. */
export interface FloorStack {
  url: string;
  orders: BenchChild<FloorOrdersReady>;
  inventory: BenchChild<undefined>;
  nats: PrivateNats;
  /** Names of the floor's databases on the server. */
  databaseNames: string[];
  stop(): Promise<void>;
}

/**
 * Starts the floor on its own bus and its own two databases of the PostgreSQL server at `adminUrl`,
 * created with the apps' own migrations (the same tables and indexes as Relay's), with `stock`
 * levels per sku.
 */
export async function startFloorStack(adminUrl: string, stock: Record<string, number>): Promise<FloorStack> {
  const databases = await createStackDatabases('postgres', adminUrl);
  const stops: (() => Promise<void>)[] = [() => databases.drop()];
  const stop = async (): Promise<void> => {
    for (const step of stops.reverse()) await step().catch(() => undefined);
  };
  try {
    const ordersUrl = urlOf(databases, 'orders');
    const inventoryUrl = urlOf(databases, 'inventory');
    await migrate(ordersUrl, ordersMigrations, []);
    await migrate(inventoryUrl, inventoryMigrations, Object.entries(stock));
    const nats = await startPrivateNats('floor-nats');
    stops.push(() => nats.stop());
    const fork = <T>(name: string, databaseUrl: string): Promise<BenchChild<T>> => {
      const config: FloorConfig = { natsUrl: nats.url, databaseUrl };
      return forkTarget<T>(name, join(__dirname, `${name}.ts`), {
        env: { BENCH_TARGET: JSON.stringify(config) },
      });
    };
    const inventory = await fork<undefined>('floor-inventory', inventoryUrl);
    stops.push(() => inventory.stop());
    const orders = await fork<FloorOrdersReady>('floor-orders', ordersUrl);
    stops.push(() => orders.stop());
    return {
      url: orders.ready.url,
      orders,
      inventory,
      nats,
      databaseNames: databaseNamesOf(databases),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The database names in a stack's `DATABASE_URL`s. */
export function databaseNamesOf(databases: StackDatabases): string[] {
  return Object.values(databases.urls).map((url) => new URL(url).pathname.slice(1));
}

function urlOf(databases: StackDatabases, app: 'orders' | 'inventory'): string {
  const url = databases.urls[app];
  if (url === undefined) throw new Error(`no ${app} database`);
  return url;
}

async function migrate(
  url: string,
  migrations: readonly { sql: string }[],
  stock: [string, number][],
): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    for (const migration of migrations) await client.query(migration.sql);
    for (const [sku, available] of stock) {
      await client.query(
        `INSERT INTO stock (sku, available) VALUES ($1, $2)
         ON CONFLICT (sku) DO UPDATE SET available = EXCLUDED.available`,
        [sku, available],
      );
    }
  } finally {
    await client.end();
  }
}
