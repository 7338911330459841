import type { Migration } from '@relay/database';

// One statement per migration: PGlite runs each through the extended protocol.
export const inventoryMigrations: Migration[] = [
  {
    id: '0001-stock',
    sql: `CREATE TABLE stock (
            sku text PRIMARY KEY,
            available integer NOT NULL CHECK (available >= 0)
          )`,
  },
  {
    id: '0002-reservations',
    sql: `CREATE TABLE reservations (
            order_id uuid PRIMARY KEY,
            user_id text NOT NULL,
            items jsonb NOT NULL,
            status text NOT NULL CHECK (status IN ('held', 'released')),
            created_at timestamptz NOT NULL DEFAULT now(),
            released_at timestamptz
          )`,
  },
  {
    id: '0003-demo-stock',
    sql: `INSERT INTO stock (sku, available)
          VALUES ('sku-apple', 100), ('sku-pear', 100), ('sku-plum', 100)
          ON CONFLICT (sku) DO NOTHING`,
  },
];
