import { connect, headers as natsHeaders, type Msg, type NatsConnection } from 'nats';

import { type InventoryReservedEvent, InventorySubjects, type StockItem } from '@relay/contracts';

/** One message the stand-in received. */
export interface ReceivedCall {
  subject: string;
  data: Record<string, unknown>;
  authorization: string | undefined;
  traceparent: string | undefined;
}

type Mode = 'answer' | 'reserve-without-answer' | 'unauthorized' | 'forbidden' | 'unavailable';

/**
 * A hand-written inventory for orders' specs (specs only): subscribes to the contract subjects on
 * a private NATS and answers in Nest's wire format (`{id, response}` / `{id, err}`). It verifies
 * nothing itself (no tokens, no DTOs); the real inventory flow is apps/orders-e2e's job.
 */
export class InventoryStandIn {
  readonly calls: ReceivedCall[] = [];
  /**
   * `reserve-without-answer`: takes the stock and never replies (a lost reply); `unauthorized` /
   * `forbidden`: refuses every reserve with err 401 / 403, taking nothing; `unavailable`: answers err
   * 503 (it cannot judge tokens yet), taking nothing.
   */
  mode: Mode = 'answer';
  /** Token of `inventory.reserved` events; `undefined`: the reserve request's token is sent back. */
  eventToken: string | undefined;
  private readonly stock = new Map<string, number>();
  private readonly held = new Map<string, StockItem[]>();

  private constructor(private readonly connection: NatsConnection) {}

  static async start(url: string): Promise<InventoryStandIn> {
    const standIn = new InventoryStandIn(await connect({ servers: url, name: 'inventory-stand-in' }));
    for (const subject of [InventorySubjects.reserve, InventorySubjects.release, InventorySubjects.stock]) {
      standIn.connection.subscribe(subject, {
        callback: (error, message) => error ?? standIn.handle(message),
      });
    }
    await standIn.connection.flush();
    return standIn;
  }

  setStock(sku: string, available: number): void {
    this.stock.set(sku, available);
  }

  available(sku: string): number | undefined {
    return this.stock.get(sku);
  }

  callsOf(subject: string): ReceivedCall[] {
    return this.calls.filter((call) => call.subject === subject);
  }

  async stop(): Promise<void> {
    if (!this.connection.isClosed()) await this.connection.drain();
  }

  private handle(message: Msg): void {
    const packet = JSON.parse(new TextDecoder().decode(message.data)) as {
      id: string;
      data: Record<string, unknown>;
    };
    const call: ReceivedCall = {
      subject: message.subject,
      data: packet.data,
      authorization: message.headers?.get('authorization') || undefined,
      traceparent: message.headers?.get('traceparent') || undefined,
    };
    this.calls.push(call);
    const reply = (body: Record<string, unknown>): void => {
      message.respond(new TextEncoder().encode(JSON.stringify({ id: packet.id, ...body, isDisposed: true })));
    };
    switch (message.subject) {
      case InventorySubjects.reserve:
        return this.reserve(call, reply);
      case InventorySubjects.release: {
        const orderId = String(packet.data['orderId']);
        for (const item of this.held.get(orderId) ?? []) {
          this.setStock(item.sku, (this.available(item.sku) ?? 0) + item.quantity);
        }
        this.held.set(orderId, []);
        return reply({ response: { orderId, released: true } });
      }
      default:
        return reply({
          response: { sku: packet.data['sku'], available: this.available(String(packet.data['sku'])) ?? 0 },
        });
    }
  }

  private reserve(call: ReceivedCall, reply: (body: Record<string, unknown>) => void): void {
    const orderId = String(call.data['orderId']);
    const items = call.data['items'] as StockItem[];
    if (this.mode === 'unauthorized') return reply({ err: { status: 401, message: 'Access token revoked' } });
    if (this.mode === 'forbidden') return reply({ err: { status: 403, message: 'Missing role' } });
    if (this.mode === 'unavailable') {
      return reply({ err: { status: 503, message: 'Revocation list not available yet; retry later' } });
    }
    if (!this.held.has(orderId)) {
      if (!items.every((item) => (this.available(item.sku) ?? 0) >= item.quantity)) {
        return reply({ err: { status: 409, reason: 'insufficient_stock', message: 'Not enough stock' } });
      }
      for (const item of items) this.setStock(item.sku, (this.available(item.sku) ?? 0) - item.quantity);
      this.held.set(orderId, items);
      this.emitReserved(orderId, items, call.authorization);
    }
    if (this.mode === 'answer') reply({ response: { orderId, reserved: true } });
  }

  private emitReserved(orderId: string, items: StockItem[], authorization: string | undefined): void {
    const userId = subjectOf(authorization);
    const event: InventoryReservedEvent = { orderId, userId, items };
    const headers = natsHeaders();
    const token = this.eventToken === undefined ? authorization : `Bearer ${this.eventToken}`;
    if (token !== undefined) headers.set('authorization', token);
    const payload = JSON.stringify({ pattern: InventorySubjects.reserved, data: event });
    this.connection.publish(InventorySubjects.reserved, new TextEncoder().encode(payload), { headers });
  }
}

/** The `sub` claim of a Bearer token, read without verification (the stand-in trusts its caller). */
export function subjectOf(authorization: string | undefined): string {
  return String(claimsOf(authorization)['sub'] ?? '');
}

/** The claims of a Bearer token, read without verification (for assertions in specs). */
export function claimsOf(authorization: string | undefined): Record<string, unknown> {
  const payload = authorization?.replace(/^Bearer /, '').split('.')[1];
  if (payload === undefined) return {};
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}
