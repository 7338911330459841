import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

import { InventoryReservedDto } from './inventory-reserved.dto';

const orderId = '0b6f1f9e-3c1e-4a55-9d8e-2f1c6b1d7a10';

function errorsOf(payload: unknown): string[] {
  const dto = plainToInstance(InventoryReservedDto, payload);
  return validateSync(dto, { whitelist: true, forbidNonWhitelisted: true }).map((error) => error.property);
}

describe(InventoryReservedDto.name, () => {
  it('accepts the event inventory sends, a sku summed over fifty lines included', () => {
    expect(errorsOf({ orderId, userId: 'user-1', items: [{ sku: 'sku-apple', quantity: 50_000 }] })).toEqual(
      [],
    );
  });

  it.each([
    ['an item that is an array of items', [[{ sku: 'sku-apple', quantity: 1 }]]],
    ['an item that is an empty array', [[]]],
    ['an item that is null', [null]],
    ['a quantity past fifty full lines', [{ sku: 'sku-apple', quantity: 50_001 }]],
  ])('refuses %s', (_case, items) => {
    expect(errorsOf({ orderId, userId: 'user-1', items })).toContain('items');
  });
});
