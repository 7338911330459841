// @Type reads design-time metadata as soon as this module loads, even outside Nest.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsObject,
  IsString,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';

/** Largest quantity of one sku in one order (contract: 1..1000). */
export const MAX_ITEM_QUANTITY = 1000;
/** Most lines in one order (contract: 1..50). */
export const MAX_ORDER_ITEMS = 50;
/** A sku is a short, URL-safe identifier. */
export const SKU_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** One line of an order or reservation. */
export class StockItemDto {
  @IsString()
  @Matches(SKU_PATTERN, { message: 'sku must be 1..64 letters, digits, ".", "_" or "-"' })
  sku!: string;

  @IsInt()
  @Min(1)
  @Max(MAX_ITEM_QUANTITY)
  quantity!: number;
}

/** `items`: 1..50 order lines, each a valid `StockItemDto` (`POST /orders` and `inventory.reserve`). */
export class StockItemListDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_ORDER_ITEMS)
  // ValidateNested steps into an element that is itself an array ([[item]], [[]]) and passes it
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => StockItemDto)
  items!: StockItemDto[];
}

export interface StockItem {
  sku: string;
  quantity: number;
}
