import type { Migration } from '@relay/database';

// One statement per migration: PGlite runs each through the extended protocol.
export const ordersMigrations: Migration[] = [
  {
    id: '0001-orders',
    sql: `CREATE TABLE orders (
            id uuid PRIMARY KEY,
            user_id text NOT NULL,
            status text NOT NULL CHECK (status IN ('pending', 'confirmed', 'rejected', 'failed')),
            items jsonb NOT NULL,
            reason text,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            inventory_acknowledged_at timestamptz
          )`,
  },
  {
    id: '0002-orders-by-user',
    sql: 'CREATE INDEX orders_user_created_idx ON orders (user_id, created_at DESC)',
  },
  {
    id: '0003-orders-pending',
    sql: `CREATE INDEX orders_pending_idx ON orders (created_at) WHERE status = 'pending'`,
  },
  {
    id: '0004-idempotency-keys',
    sql: `CREATE TABLE idempotency_keys (
            user_id text NOT NULL,
            key text NOT NULL,
            order_id uuid NOT NULL REFERENCES orders (id) DEFERRABLE INITIALLY DEFERRED,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (user_id, key)
          )`,
  },
  {
    // A failed order whose stock inventory may still hold: ReleaseSweeper retries inventory.release
    // until inventory acknowledges it, then clears the flag.
    id: '0005-orders-release-pending',
    sql: 'ALTER TABLE orders ADD COLUMN release_pending boolean NOT NULL DEFAULT false',
  },
  {
    id: '0006-orders-release-pending-index',
    sql: 'CREATE INDEX orders_release_pending_idx ON orders (updated_at) WHERE release_pending',
  },
];
