import { Controller, Logger, UseGuards } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MessagePattern, Payload, RpcException } from '@nestjs/microservices';

import {
  CurrentPrincipal,
  type Principal,
  type RelayNatsCallOptions,
  RelayNatsClient,
  Roles,
  Scopes,
} from '@relay/auth';
import {
  describeError,
  type InventoryReservedEvent,
  InventorySubjects,
  ReleaseStockDto,
  type ReleaseStockResult,
  ReserveStockDto,
  type ReserveStockResult,
  type RpcError,
  type StockLevel,
  StockQueryDto,
  UserScopes,
} from '@relay/contracts';

import type { InventoryConfig } from '../config/inventory.config';
import { ReleaseCallerGuard, releaseCaller, reserveCaller } from './stock-callers';
import { ForeignReservationError, InsufficientStockError, ReservationConflictError } from './stock.errors';
import { StockService } from './stock.service';

const ORDERS_AUDIENCE = 'orders';

/** NATS handlers of inventory (CONTRACT.md, NATS); the global guards authenticate every message. */
@Controller()
export class StockRpcController {
  private readonly logger = new Logger(StockRpcController.name);
  private readonly hasClientCredentials: boolean;

  constructor(
    private readonly stock: StockService,
    private readonly nats: RelayNatsClient,
    config: ConfigService<InventoryConfig, true>,
  ) {
    this.hasClientCredentials =
      Boolean(config.get('AUTH_CLIENT_ID', { infer: true })) &&
      Boolean(config.get('AUTH_CLIENT_SECRET', { infer: true }));
  }

  @Roles('customer', 'admin')
  @MessagePattern(InventorySubjects.reserve)
  async reserve(
    @Payload() request: ReserveStockDto,
    @CurrentPrincipal() principal?: Principal,
  ): Promise<ReserveStockResult> {
    const caller = reserveCaller(principal);
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
      this.nats
        .emit(InventorySubjects.reserved, event, this.eventOptions(principal))
        .catch((error: unknown) => {
          this.logger.warn(
            `Could not emit ${InventorySubjects.reserved} for order ${request.orderId}: ${describeError(error)}`,
          );
        });
    }
    return reservation.result;
  }

  // The event continues the caller's chain (same user, trace and request id) whenever orders accepts
  // the caller's token. A token narrowed to inventory (PROPAGATION_MODE=exchange) would be refused
  // there, so then the event goes on inventory's own behalf (scope orders:acknowledge) when it has
  // client credentials; orders matches it to the order's owner by `userId` either way.
  private eventOptions(principal: Principal | undefined): RelayNatsCallOptions {
    const isForwardable = principal?.audience.includes(ORDERS_AUDIENCE) ?? false;
    return !isForwardable && this.hasClientCredentials
      ? { propagation: 'service', audience: ORDERS_AUDIENCE }
      : {};
  }

  // No @Roles: customer/admin *or* a service token with scope inventory:release (see releaseCaller).
  @UseGuards(ReleaseCallerGuard)
  @MessagePattern(InventorySubjects.release)
  release(
    @Payload() request: ReleaseStockDto,
    @CurrentPrincipal() principal?: Principal,
  ): Promise<ReleaseStockResult> {
    return this.stock.release(releaseCaller(principal), request.orderId).catch(toRpcException);
  }

  @Scopes(UserScopes.inventoryRead)
  @MessagePattern(InventorySubjects.stock)
  async level(@Payload() query: StockQueryDto): Promise<StockLevel> {
    const level = await this.stock.find(query.sku);
    if (level === undefined) {
      // never names the sku asked for (as on HTTP): it may be a secret pasted in
      throw new RpcException({ status: 404, message: 'Unknown sku' } satisfies RpcError);
    }
    return level;
  }
}

function toRpcException(error: unknown): never {
  if (error instanceof InsufficientStockError || error instanceof ReservationConflictError) {
    throw new RpcException({ status: 409, reason: error.reason, message: error.message } satisfies RpcError);
  }
  // as GET /orders/{id} answers another user's order
  if (error instanceof ForeignReservationError) {
    throw new RpcException({ status: 404, message: error.message } satisfies RpcError);
  }
  throw error;
}
