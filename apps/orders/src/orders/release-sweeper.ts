import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';

import { RpcCallError } from '@relay/auth';
import { describeError, ServiceScopes } from '@relay/contracts';

import type { OrdersConfig } from '../config/orders.config';
import { InventoryClient } from '../inventory-client/inventory.client';
import { OrdersRepository } from './orders.repository';
import { PendingOrdersRecovery } from './pending-orders.recovery';

/** How often abandoned orders are failed, and failed orders with stock possibly held are retried. */
export const RELEASE_SWEEP_INTERVAL_MS = 5000;
const SWEEP_BATCH_SIZE = 100;
// Retries on the caller's behalf while their request's context (and token) is at hand.
const CALLER_RETRY_DELAYS_MS = [1000, 4000];

/**
 * Makes the release of a failed order really happen (CONTRACT: "rejected/failed with nothing
 * reserved"). Orders stored `release_pending` are released on the caller's behalf at once, and
 * retried by a background sweep with orders' own token (scope `inventory:release`) until inventory
 * acknowledges; the flag is cleared only then. Without AUTH_CLIENT_ID/AUTH_CLIENT_SECRET there is no
 * own token, so only the caller's token is tried. Each pass first fails the abandoned orders
 * (`PendingOrdersRecovery`), with or without credentials.
 */
@Injectable()
export class ReleaseSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReleaseSweeper.name);
  private readonly hasServiceCredentials: boolean;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private isStopped = false;
  // an outage is logged when a pass first meets it, when its cause changes and when a pass gets
  // through again, not every 5 s: the cause of the last pass's failure, if it failed
  private lookupFailure: string | undefined;
  private releaseFailure: string | undefined;

  constructor(
    private readonly orders: OrdersRepository,
    private readonly inventory: InventoryClient,
    private readonly recovery: PendingOrdersRecovery,
    config: ConfigService<OrdersConfig, true>,
  ) {
    const clientId = config.get('AUTH_CLIENT_ID', { infer: true });
    const clientSecret = config.get('AUTH_CLIENT_SECRET', { infer: true });
    this.hasServiceCredentials = Boolean(clientId) && Boolean(clientSecret);
  }

  onApplicationBootstrap(): void {
    if (!this.hasServiceCredentials) {
      this.logger.warn(
        'AUTH_CLIENT_ID/AUTH_CLIENT_SECRET are not set: the stock of orders failed by a crash or a lost ' +
          'inventory reply is released only while the customer request is running; set them (client scope ' +
          `${ServiceScopes.inventoryRelease} in AUTH_CLIENTS) so releases after a crash happen`,
      );
    }
    void this.sweep();
    this.timer = setInterval(() => void this.sweep(), RELEASE_SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  /**
   * Stops the sweep, waiting for a pass in flight: it ends after the release it is making (the
   * database closes after this hook), so that release's order is marked released, not met by a
   * closed database and released again by the next start.
   */
  async onApplicationShutdown(): Promise<void> {
    this.isStopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /**
   * Releases a failed order on behalf of the current caller (their token), in the background,
   * retrying a few times; whatever remains is left to the sweep.
   */
  releaseForCaller(orderId: string): void {
    void this.releaseWithRetries(orderId);
  }

  /**
   * One pass: fails the abandoned orders, then releases the `release_pending` ones with orders' own
   * token (when it has one); answers how many were released.
   */
  sweep(): Promise<number> {
    // one pass at a time: the interval never stacks passes behind a slow inventory
    this.running ??= this.sweepOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async sweepOnce(): Promise<number> {
    if (this.isStopped) return 0;
    try {
      await this.recovery.failAbandoned();
      if (this.lookupFailure !== undefined) this.logger.log('Looking for abandoned orders again');
      this.lookupFailure = undefined;
    } catch (error) {
      const cause = describeError(error);
      if (cause !== this.lookupFailure) {
        this.logger.warn(
          `Could not look for abandoned orders (${cause}); retrying every ${RELEASE_SWEEP_INTERVAL_MS / 1000} s`,
        );
      }
      this.lookupFailure = cause;
    }
    if (!this.hasServiceCredentials || this.isStopped) return 0;
    let released = 0;
    let pending = 0;
    let failure: unknown;
    try {
      const orders = await this.orders.listReleasePending(SWEEP_BATCH_SIZE);
      pending = orders.length;
      for (const order of orders) {
        if (this.isStopped) break;
        let error: unknown;
        if (await this.tryRelease(order.id, true, (cause) => (error = cause))) {
          released += 1;
          continue;
        }
        failure ??= error;
        // inventory did not take it (down, silent, or refusing orders' token): every other release
        // would wait out its timeout too and hold back the next pass's abandoned orders; they go then
        if (!isRefusalOfThisOrder(error)) break;
      }
    } catch (error) {
      failure ??= error;
    }
    const cause = failure === undefined ? undefined : describeError(failure);
    if (cause !== undefined && cause !== this.releaseFailure) {
      this.logger.warn(
        `${Math.max(pending - released, 1)} failed order(s) may still hold stock in inventory (${cause}); ` +
          `retrying every ${RELEASE_SWEEP_INTERVAL_MS / 1000} s`,
      );
    } else if (cause === undefined && this.releaseFailure !== undefined) {
      this.logger.log(`Releasing the stock of failed orders again (${released} released in this pass)`);
    }
    this.releaseFailure = cause;
    return released;
  }

  private async releaseWithRetries(orderId: string): Promise<void> {
    let lastError: unknown;
    for (const delayMs of [0, ...CALLER_RETRY_DELAYS_MS]) {
      if (delayMs > 0) await sleep(delayMs);
      if (this.isStopped) return;
      if (await this.tryRelease(orderId, false, (error) => (lastError = error))) return;
    }
    this.logger.warn(
      `Could not release the stock of failed order ${orderId} (${describeError(lastError)}); ` +
        (this.hasServiceCredentials ? 'the sweep retries it' : 'it needs AUTH_CLIENT_ID/AUTH_CLIENT_SECRET'),
    );
  }

  private async tryRelease(
    orderId: string,
    asService: boolean,
    onError: (error: unknown) => void,
  ): Promise<boolean> {
    try {
      await this.inventory.release(orderId, { asService });
      await this.orders.clearReleasePending(orderId);
      return true;
    } catch (error) {
      onError(error);
      return false;
    }
  }
}

// an answer about this order alone (a 4xx error reply), not about inventory or orders' token
function isRefusalOfThisOrder(error: unknown): boolean {
  return error instanceof RpcCallError && error.status >= 400 && error.status < 500;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
