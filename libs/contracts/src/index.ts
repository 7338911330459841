export { InventorySubjects, type InventorySubject } from './lib/inventory/inventory.subjects';
export {
  MAX_ITEM_QUANTITY,
  MAX_ORDER_ITEMS,
  SKU_PATTERN,
  StockItemDto,
  StockItemListDto,
  type StockItem,
} from './lib/inventory/stock-item.dto';
export { ReserveStockDto, type ReserveStockResult } from './lib/inventory/reserve-stock.dto';
export { ReleaseStockDto, type ReleaseStockResult } from './lib/inventory/release-stock.dto';
export { StockQueryDto, type StockLevel } from './lib/inventory/stock-query.dto';
export type { InventoryReservedEvent } from './lib/inventory/inventory-reserved.event';
export { isRole, ROLES, type Role } from './lib/auth/role';
export { ALL_USER_SCOPES, scopeForRoles, UserScopes } from './lib/auth/user-scopes';
export { type ServiceScope, ServiceScopes } from './lib/auth/service-scopes';
export {
  AuthSubjects,
  MAX_ACCESS_TOKEN_TTL_SECONDS,
  MAX_CLOCK_TOLERANCE_SECONDS,
  REVOCATION_RETENTION_SECONDS,
  parseRevocationKey,
  REVOCATION_BUCKET,
  revocationKey,
  type KeysRotatedEvent,
  type RevocationEntry,
  type RevocationKind,
} from './lib/auth/auth-events';
export { describeError } from './lib/errors/describe-error';
export { isSocketFailure } from './lib/errors/socket-failure';
export { isRpcError, type RpcError } from './lib/rpc/rpc-error';
export { IDEMPOTENCY_KEY_HEADER, MessageHeaders } from './lib/rpc/message-headers';
