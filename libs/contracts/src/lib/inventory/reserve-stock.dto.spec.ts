import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

import { ReserveStockDto } from './reserve-stock.dto';

const orderId = '0b6f1f9e-3c1e-4a55-9d8e-2f1c6b1d7a10';

function errorsOf(payload: unknown): string[] {
  const dto = plainToInstance(ReserveStockDto, payload);
  return validateSync(dto, { whitelist: true, forbidNonWhitelisted: true }).map((error) => error.property);
}

describe(ReserveStockDto.name, () => {
  it('accepts an order id with 1..50 valid items', () => {
    expect(errorsOf({ orderId, items: [{ sku: 'sku-apple', quantity: 1000 }] })).toEqual([]);
  });

  it.each([
    ['no items', { orderId, items: [] }, 'items'],
    ['51 items', { orderId, items: Array.from({ length: 51 }, () => ({ sku: 'a', quantity: 1 })) }, 'items'],
    ['quantity 0', { orderId, items: [{ sku: 'a', quantity: 0 }] }, 'items'],
    ['quantity 1001', { orderId, items: [{ sku: 'a', quantity: 1001 }] }, 'items'],
    ['fractional quantity', { orderId, items: [{ sku: 'a', quantity: 1.5 }] }, 'items'],
    ['quantity as a string', { orderId, items: [{ sku: 'a', quantity: '1' }] }, 'items'],
    ['an unknown item field', { orderId, items: [{ sku: 'a', quantity: 1, price: 0 }] }, 'items'],
    ['a sku with a slash', { orderId, items: [{ sku: '../a', quantity: 1 }] }, 'items'],
    ['an order id that is not a uuid', { orderId: 'x', items: [{ sku: 'a', quantity: 1 }] }, 'orderId'],
    ['an item that is an array of items', { orderId, items: [[{ sku: 'a', quantity: 1 }]] }, 'items'],
    ['an item that is an empty array', { orderId, items: [[]] }, 'items'],
    ['an item that is a number', { orderId, items: [1] }, 'items'],
    ['an item that is null', { orderId, items: [null] }, 'items'],
    ['an unknown top-level field', { orderId, items: [{ sku: 'a', quantity: 1 }], userId: 'u' }, 'userId'],
  ])('refuses %s', (_case, payload, property) => {
    expect(errorsOf(payload)).toContain(property);
  });
});
