import { randomUUID } from 'node:crypto';

import { type Database, testDatabaseBackends } from '@relay/database';

import { inventoryMigrations } from '../database/migrations';
import { ReservationsRepository } from './reservations.repository';
import { ForeignReservationError, InsufficientStockError, ReservationConflictError } from './stock.errors';
import { StockRepository } from './stock.repository';
import { type StockCaller, StockService } from './stock.service';

const alice: StockCaller = { userId: 'alice', canReleaseAny: false };
const bob: StockCaller = { userId: 'bob', canReleaseAny: false };

describe.each(testDatabaseBackends(inventoryMigrations))(`${StockService.name} on $name`, (backend) => {
  let database: Database;
  let cleanup: () => Promise<void>;
  let service: StockService;

  beforeAll(async () => {
    ({ db: database, cleanup } = await backend.open());
    service = new StockService(database, new StockRepository(database), new ReservationsRepository());
  });

  afterAll(async () => {
    await cleanup();
  });

  // Back to the migrated state (seeded demo skus only), without paying for a new database per test.
  beforeEach(async () => {
    await database.query('DELETE FROM reservations');
    await database.query(`DELETE FROM stock WHERE sku NOT IN ('sku-apple', 'sku-pear', 'sku-plum')`);
    await database.query('UPDATE stock SET available = 100');
  });

  const available = async (sku: string): Promise<number | undefined> => (await service.find(sku))?.available;
  const reservationCount = async (): Promise<number> => {
    const [row] = await database.query<{ count: number }>('SELECT count(*)::int AS count FROM reservations');
    return row.count;
  };

  it('seeds the demo skus with 100 each', async () => {
    expect(await available('sku-apple')).toBe(100);
    expect(await available('sku-pear')).toBe(100);
    expect(await available('sku-plum')).toBe(100);
  });

  it('takes every item when all are available', async () => {
    const orderId = randomUUID();

    const reservation = await service.reserve(alice, orderId, [
      { sku: 'sku-pear', quantity: 3 },
      { sku: 'sku-apple', quantity: 2 },
    ]);

    expect(reservation).toEqual({
      result: { orderId, reserved: true },
      items: [
        { sku: 'sku-apple', quantity: 2 },
        { sku: 'sku-pear', quantity: 3 },
      ],
      isNew: true,
    });
    expect(await available('sku-apple')).toBe(98);
    expect(await available('sku-pear')).toBe(97);
  });

  it('takes nothing when one item is short (all or nothing)', async () => {
    const attempt = service.reserve(alice, randomUUID(), [
      { sku: 'sku-apple', quantity: 5 },
      { sku: 'sku-pear', quantity: 101 },
    ]);

    await expect(attempt).rejects.toBeInstanceOf(InsufficientStockError);
    expect(await available('sku-apple')).toBe(100);
    expect(await available('sku-pear')).toBe(100);
    expect(await reservationCount()).toBe(0);
  });

  it('treats an unknown sku as insufficient stock', async () => {
    const attempt = service.reserve(alice, randomUUID(), [
      { sku: 'sku-apple', quantity: 1 },
      { sku: 'sku-kiwi', quantity: 1 },
    ]);

    await expect(attempt).rejects.toMatchObject({ reason: 'insufficient_stock', sku: 'sku-kiwi' });
    expect(await available('sku-apple')).toBe(100);
  });

  it('adds up duplicate skus before checking stock', async () => {
    const attempt = service.reserve(alice, randomUUID(), [
      { sku: 'sku-apple', quantity: 60 },
      { sku: 'sku-apple', quantity: 60 },
    ]);

    await expect(attempt).rejects.toBeInstanceOf(InsufficientStockError);
    expect(await available('sku-apple')).toBe(100);
  });

  it('reserves nothing more when the same order is reserved again', async () => {
    const orderId = randomUUID();
    await service.reserve(alice, orderId, [{ sku: 'sku-apple', quantity: 10 }]);

    const repeat = await service.reserve(alice, orderId, [{ sku: 'sku-apple', quantity: 10 }]);

    expect(repeat.result).toEqual({ orderId, reserved: true });
    expect(repeat.isNew).toBe(false);
    expect(await available('sku-apple')).toBe(90);
  });

  it('reserves once when the same order arrives concurrently', async () => {
    const orderId = randomUUID();

    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => service.reserve(alice, orderId, [{ sku: 'sku-plum', quantity: 7 }])),
    );

    expect(results.every((result) => result.status === 'fulfilled')).toBe(true);
    expect(results.filter((result) => result.status === 'fulfilled' && result.value.isNew)).toHaveLength(1);
    expect(await available('sku-plum')).toBe(93);
  });

  it("refuses another user's order id", async () => {
    const orderId = randomUUID();
    await service.reserve(alice, orderId, [{ sku: 'sku-apple', quantity: 1 }]);

    const attempt = service.reserve(bob, orderId, [{ sku: 'sku-apple', quantity: 1 }]);

    await expect(attempt).rejects.toMatchObject({ reason: 'order_id_taken' });
    expect(await available('sku-apple')).toBe(99);
  });

  it('refuses a repeat of an order id with other items, taking nothing more', async () => {
    const orderId = randomUUID();
    await service.reserve(alice, orderId, [{ sku: 'sku-apple', quantity: 2 }]);

    const other = service.reserve(alice, orderId, [{ sku: 'sku-pear', quantity: 5 }]);
    const more = service.reserve(alice, orderId, [{ sku: 'sku-apple', quantity: 3 }]);
    // the same lines in another order and split differently are the same reservation
    const same = service.reserve(alice, orderId, [
      { sku: 'sku-apple', quantity: 1 },
      { sku: 'sku-apple', quantity: 1 },
    ]);

    await expect(other).rejects.toMatchObject({ reason: 'order_items_differ' });
    await expect(more).rejects.toMatchObject({ reason: 'order_items_differ' });
    await expect(same).resolves.toMatchObject({ isNew: false });
    expect([await available('sku-apple'), await available('sku-pear')]).toEqual([98, 100]);
  });

  it('gives the stock back exactly once when released twice', async () => {
    const orderId = randomUUID();
    await service.reserve(alice, orderId, [
      { sku: 'sku-apple', quantity: 10 },
      { sku: 'sku-pear', quantity: 4 },
    ]);

    expect(await service.release(alice, orderId)).toEqual({ orderId, released: true });
    expect(await service.release(alice, orderId)).toEqual({ orderId, released: true });

    expect(await available('sku-apple')).toBe(100);
    expect(await available('sku-pear')).toBe(100);
  });

  it('gives back once when the same release arrives concurrently', async () => {
    const orderId = randomUUID();
    await service.reserve(alice, orderId, [{ sku: 'sku-apple', quantity: 10 }]);

    await Promise.all(Array.from({ length: 5 }, () => service.release(alice, orderId)));

    expect(await available('sku-apple')).toBe(100);
  });

  it('takes nothing for an order released before its reservation arrived', async () => {
    const orderId = randomUUID();
    await service.release(alice, orderId);

    const attempt = service.reserve(alice, orderId, [{ sku: 'sku-apple', quantity: 3 }]);

    await expect(attempt).rejects.toBeInstanceOf(ReservationConflictError);
    await expect(attempt).rejects.toMatchObject({ reason: 'order_released' });
    expect(await available('sku-apple')).toBe(100);
  });

  it("does not release another user's reservation unless the caller is admin", async () => {
    const orderId = randomUUID();
    await service.reserve(alice, orderId, [{ sku: 'sku-apple', quantity: 10 }]);

    await expect(service.release(bob, orderId)).rejects.toBeInstanceOf(ForeignReservationError);
    expect(await available('sku-apple')).toBe(90);

    await service.release({ userId: 'root', canReleaseAny: true }, orderId);
    expect(await available('sku-apple')).toBe(100);
  });

  it('never oversells: 60 concurrent orders of 1 on a stock of 20 confirm exactly 20', async () => {
    await service.set('sku-fig', 20);

    const results = await Promise.allSettled(
      Array.from({ length: 60 }, () =>
        service.reserve(alice, randomUUID(), [{ sku: 'sku-fig', quantity: 1 }]),
      ),
    );

    const confirmed = results.filter((result) => result.status === 'fulfilled');
    const refused = results.filter(
      (result) => result.status === 'rejected' && result.reason instanceof InsufficientStockError,
    );
    expect(confirmed).toHaveLength(20);
    expect(refused).toHaveLength(40);
    expect(await available('sku-fig')).toBe(0);
    expect(await reservationCount()).toBe(20);
  });

  it('sets a stock level, creating the sku when new', async () => {
    expect(await service.set('sku-new', 7)).toEqual({ sku: 'sku-new', available: 7 });
    expect(await service.set('sku-new', 3)).toEqual({ sku: 'sku-new', available: 3 });
    expect(await service.find('sku-missing')).toBeUndefined();
  });
});
