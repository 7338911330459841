import { Controller, Logger } from '@nestjs/common';
import { MessagePattern, Payload, RpcException } from '@nestjs/microservices';

import { CurrentPrincipal, type Principal, RelayNatsClient, Roles } from '@relay/auth';
import {
  type InventoryReservedEvent,
  InventorySubjects,
  ReleaseStockDto,
  type ReleaseStockResult,
  ReserveStockDto,
  type ReserveStockResult,
  type RpcError,
  type StockLevel,
  StockQueryDto,
} from '@relay/contracts';

import { InsufficientStockError, ReservationConflictError } from './stock.errors';
import { type StockCaller, StockService } from './stock.service';

/** NATS handlers of inventory (CONTRACT.md, NATS); the global guards authenticate every message. */
@Controller()
export class StockRpcController {
  private readonly logger = new Logger(StockRpcController.name);

  constructor(
    private readonly stock: StockService,
    private readonly nats: RelayNatsClient,
  ) {}

  @Roles('customer', 'admin')
  @MessagePattern(InventorySubjects.reserve)
  async reserve(
    @Payload() request: ReserveStockDto,
    @CurrentPrincipal() principal?: Principal,
  ): Promise<ReserveStockResult> {
    const caller = toCaller(principal);
    const reservation = await this.stock
      .reserve(caller, request.orderId, request.items)
      .catch(toRpcException);
    if (reservation.isNew) {
      const event: InventoryReservedEvent = {
        orderId: request.orderId,
        userId: caller.userId,
        items: reservation.items,
      };
      // The reservation is committed; a lost event only delays the order's acknowledgement.
      this.nats.emit(InventorySubjects.reserved, event).catch((error: unknown) => {
        this.logger.warn(
          `Could not emit ${InventorySubjects.reserved} for order ${request.orderId}: ${describe(error)}`,
        );
      });
    }
    return reservation.result;
  }

  @Roles('customer', 'admin')
  @MessagePattern(InventorySubjects.release)
  release(
    @Payload() request: ReleaseStockDto,
    @CurrentPrincipal() principal?: Principal,
  ): Promise<ReleaseStockResult> {
    return this.stock.release(toCaller(principal), request.orderId);
  }

  @MessagePattern(InventorySubjects.stock)
  async level(@Payload() query: StockQueryDto): Promise<StockLevel> {
    const level = await this.stock.find(query.sku);
    if (level === undefined) {
      throw new RpcException({ status: 404, message: `Unknown sku ${query.sku}` } satisfies RpcError);
    }
    return level;
  }
}

function toCaller(principal: Principal | undefined): StockCaller {
  // The global AccessTokenGuard has run, so a principal is always present here.
  if (principal === undefined) {
    throw new RpcException({ status: 401, message: 'Missing access token' } satisfies RpcError);
  }
  return { userId: principal.subject, isAdmin: principal.roles.includes('admin') };
}

function toRpcException(error: unknown): never {
  if (error instanceof InsufficientStockError || error instanceof ReservationConflictError) {
    throw new RpcException({ status: 409, reason: error.reason, message: error.message } satisfies RpcError);
  }
  throw error;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
