import { StockItemListDto } from '@relay/contracts';

/** `POST /orders` body: 1..50 lines, each `{sku, quantity 1..1000}`; unknown fields are refused. */
export class CreateOrderDto extends StockItemListDto {}
