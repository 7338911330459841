import { randomUUID } from 'node:crypto';

import {
  ForbiddenException,
  Inject,
  Injectable,
  Logger,
  UnauthorizedException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { isUUID } from 'class-validator';

import { type Principal, RpcCallError, RpcNotSentError, RpcTimeoutError } from '@relay/auth';
import { describeError, type StockItem } from '@relay/contracts';
import { DATABASE, type Database } from '@relay/database';
import { recordOrderSettled } from '@relay/observability';

import type { OrdersConfig } from '../config/orders.config';
import { InventoryClient } from '../inventory-client/inventory.client';
import { IdempotencyKeysRepository } from './idempotency-keys.repository';
import type { Order, OrderFailureReason } from './order';
import { OrdersRepository } from './orders.repository';
import { ReleaseSweeper } from './release-sweeper';

// A repeat waiting for its first request's answer reads the order again after 50 ms, then twice as
// long each time up to half a second: a storm of retries must not take the database's connections
const FIRST_POLL_MS = 50;
const MAX_POLL_MS = 500;

/** Order rules: stored `pending` before inventory is asked, always left in a final, true state. */
@Injectable()
export class OrdersService {
  private readonly logger = new Logger(OrdersService.name);
  private readonly rpcTimeoutMs: number;

  constructor(
    @Inject(DATABASE) private readonly database: Database,
    private readonly orders: OrdersRepository,
    private readonly idempotencyKeys: IdempotencyKeysRepository,
    private readonly inventory: InventoryClient,
    private readonly releases: ReleaseSweeper,
    config: ConfigService<OrdersConfig, true>,
  ) {
    this.rpcTimeoutMs = config.get('ORDERS_RPC_TIMEOUT_MS', { infer: true });
  }

  /**
   * Places an order and reserves its stock. Answers the order in its final status (`pending` only
   * when a concurrent request with the same key is still running past the wait bound). With an
   * idempotency key, a repeat by the same user answers the first order and reserves nothing.
   */
  async create(principal: Principal, items: StockItem[], idempotencyKey?: string): Promise<Order> {
    const userId = principal.subject;
    const id = randomUUID();
    if (idempotencyKey === undefined) {
      return this.reserve(await this.orders.insertPending(this.database, { id, userId, items }));
    }
    const claim = await this.database.transaction(async (tx) => {
      if (await this.idempotencyKeys.claim(tx, userId, idempotencyKey, id)) {
        return { isNew: true, order: await this.orders.insertPending(tx, { id, userId, items }) };
      }
      const firstId = await this.idempotencyKeys.findOrderId(tx, userId, idempotencyKey);
      const first = firstId === undefined ? undefined : await this.orders.find(firstId, tx);
      if (first === undefined) throw new Error(`Idempotency key of user ${userId} points to no order`);
      return { isNew: false, order: first };
    });
    if (claim.isNew) return this.reserve(claim.order);
    if (!sameItems(claim.order.items, items)) {
      throw new UnprocessableEntityException('Idempotency-Key was already used with a different request');
    }
    return this.awaitFinal(claim.order);
  }

  /** The order if it is the caller's or the caller is admin; `undefined` otherwise (also for a malformed id). */
  async findForCaller(principal: Principal, id: string): Promise<Order | undefined> {
    if (!isUUID(id)) return undefined;
    const order = await this.orders.find(id);
    if (order === undefined) return undefined;
    return order.userId === principal.subject || principal.roles.includes('admin') ? order : undefined;
  }

  /**
   * The caller's orders, newest first: at most `limit` (every one without it), from the newest or
   * after the order `after`; `hasMore` when older ones remain. `undefined` when `after` is no order
   * of the caller's.
   */
  async pageForCaller(
    principal: Principal,
    { limit, after }: { limit?: number; after?: string },
  ): Promise<{ orders: Order[]; hasMore: boolean } | undefined> {
    if (after !== undefined) {
      const cursor = isUUID(after) ? await this.orders.find(after) : undefined;
      if (cursor?.userId !== principal.subject) return undefined;
    }
    if (limit === undefined) {
      return { orders: await this.orders.listByUser(principal.subject, undefined, after), hasMore: false };
    }
    // one more than the page: whether another page follows, without counting
    const orders = await this.orders.listByUser(principal.subject, limit + 1, after);
    return { orders: orders.slice(0, limit), hasMore: orders.length > limit };
  }

  /** Records inventory's `inventory.reserved` event on the order; `false` for an unknown order. */
  acknowledgeReservation(orderId: string, userId: string): Promise<boolean> {
    return this.orders.acknowledgeInventory(orderId, userId);
  }

  private async reserve(order: Order): Promise<Order> {
    try {
      await this.inventory.reserve({ orderId: order.id, items: order.items });
    } catch (error) {
      return this.handleReserveFailure(order, error);
    }
    const confirmed = await this.settle(order, 'confirmed', null);
    // Recovery took it for abandoned meanwhile (this request outlived ORDERS_RPC_TIMEOUT_MS by far) and
    // failed it, marked release_pending: it stays failed, so free its stock now rather than at the next sweep.
    if (confirmed.status === 'failed') this.releases.releaseForCaller(order.id);
    return confirmed;
  }

  private async handleReserveFailure(order: Order, error: unknown): Promise<Order> {
    if (error instanceof RpcCallError && error.status === 409) {
      return this.settle(order, 'rejected', error.reason ?? 'insufficient_stock');
    }
    if (error instanceof UnauthorizedException || error instanceof ForbiddenException) {
      // inventory refused the caller and changed nothing; the caller sees inventory's 401/403, and so
      // does a repeat with the same Idempotency-Key (OrdersController)
      const isForbidden = error instanceof ForbiddenException;
      await this.settle(order, 'failed', isForbidden ? 'inventory_forbidden' : 'inventory_unauthorized');
      throw error;
    }
    this.logger.warn(`Order ${order.id} failed: ${describeError(error)}`);
    if (error instanceof RpcNotSentError) {
      // the reservation reached no inventory (none subscribed, or it could not be sent): nothing is
      // held, so nothing is released (an outage would otherwise queue a release for every order)
      return this.settle(order, 'failed', 'inventory_unavailable');
    }
    const reason: OrderFailureReason =
      error instanceof RpcTimeoutError ? 'inventory_timeout' : 'inventory_unavailable';
    // A late or lost reply may still have reserved stock: the order is stored release_pending (for the
    // sweep, until inventory acknowledges) and released for the caller, even when storing the failure
    // fails (only this request could confirm the order).
    try {
      return await this.settle(order, 'failed', reason, true);
    } finally {
      this.releases.releaseForCaller(order.id);
    }
  }

  private async settle(
    order: Order,
    status: 'confirmed' | 'rejected' | 'failed',
    reason: string | null,
    isReleasePending = false,
  ): Promise<Order> {
    const settled = await this.orders.settle(order.id, status, reason, isReleasePending);
    // counted by the one call that moved the order out of pending
    if (settled !== undefined) recordOrderSettled(status);
    return settled ?? (await this.orders.find(order.id)) ?? order;
  }

  // A concurrent request with the same key is still asking inventory: wait for its answer,
  // no longer than that request's own RPC timeout plus a margin.
  private async awaitFinal(order: Order): Promise<Order> {
    const deadline = Date.now() + this.rpcTimeoutMs + 1000;
    let current = order;
    for (let pollMs = FIRST_POLL_MS; current.status === 'pending' && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, deadline - Date.now())));
      current = (await this.orders.find(order.id)) ?? current;
      pollMs = Math.min(pollMs * 2, MAX_POLL_MS);
    }
    return current;
  }
}

function sameItems(first: readonly StockItem[], second: readonly StockItem[]): boolean {
  return (
    first.length === second.length &&
    first.every((item, index) => item.sku === second[index].sku && item.quantity === second[index].quantity)
  );
}
