import { Inject, Injectable } from '@nestjs/common';

import type { StockLevel } from '@relay/contracts';
import { DATABASE, type Database, type Queryable } from '@relay/database';

/** Rows of `stock`; methods taking a `Queryable` run inside the caller's transaction. */
@Injectable()
export class StockRepository {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  async find(sku: string): Promise<StockLevel | undefined> {
    const [row] = await this.database.query<StockLevel>('SELECT sku, available FROM stock WHERE sku = $1', [
      sku,
    ]);
    return row;
  }

  async upsert(sku: string, available: number): Promise<StockLevel> {
    const [row] = await this.database.query<StockLevel>(
      `INSERT INTO stock (sku, available) VALUES ($1, $2)
       ON CONFLICT (sku) DO UPDATE SET available = EXCLUDED.available
       RETURNING sku, available`,
      [sku, available],
    );
    return row;
  }

  /** Takes `quantity` if that much is available; `false` (nothing taken) otherwise or for an unknown sku. */
  async take(tx: Queryable, sku: string, quantity: number): Promise<boolean> {
    const rows = await tx.query(
      'UPDATE stock SET available = available - $2 WHERE sku = $1 AND available >= $2 RETURNING available',
      [sku, quantity],
    );
    return rows.length === 1;
  }

  async giveBack(tx: Queryable, sku: string, quantity: number): Promise<void> {
    await tx.query('UPDATE stock SET available = available + $2 WHERE sku = $1', [sku, quantity]);
  }
}
