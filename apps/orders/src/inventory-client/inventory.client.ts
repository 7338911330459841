import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';

import { RelayNatsClient } from '@relay/auth';
import {
  InventorySubjects,
  type ReleaseStockDto,
  type ReleaseStockResult,
  type ReserveStockDto,
  type ReserveStockResult,
} from '@relay/contracts';

import type { OrdersConfig } from '../config/orders.config';

/**
 * Typed calls to inventory on the current caller's behalf (their token, or one exchanged for
 * inventory with PROPAGATION_MODE=exchange, plus trace and request id travel in the NATS headers). The only code in orders that knows inventory's subjects.
 * Rejects like `RelayNatsClient.send`: Unauthorized/ForbiddenException, RpcCallError, RpcTimeoutError.
 * Proved over a real NATS with an inventory stand-in by the app spec (`app.module.spec.ts`).
 */
@Injectable()
export class InventoryClient {
  private readonly timeoutMs: number;

  constructor(
    private readonly nats: RelayNatsClient,
    config: ConfigService<OrdersConfig, true>,
  ) {
    this.timeoutMs = config.get('ORDERS_RPC_TIMEOUT_MS', { infer: true });
  }

  /** `inventory.reserve`: all items or none; a repeat with the same order id takes nothing more. */
  reserve(request: ReserveStockDto): Promise<ReserveStockResult> {
    return this.nats.send<ReserveStockResult>(InventorySubjects.reserve, request, {
      timeoutMs: this.timeoutMs,
    });
  }

  /**
   * `inventory.release`: gives back what the order holds, once. `asService` sends orders' own
   * client_credentials token (scope `inventory:release`) instead of the caller's, for releases
   * that have no caller (start-up recovery, the sweeper).
   */
  release(orderId: string, { asService = false }: { asService?: boolean } = {}): Promise<ReleaseStockResult> {
    const request: ReleaseStockDto = { orderId };
    return this.nats.send<ReleaseStockResult>(InventorySubjects.release, request, {
      timeoutMs: this.timeoutMs,
      ...(asService ? { propagation: 'service' as const } : {}),
    });
  }
}
