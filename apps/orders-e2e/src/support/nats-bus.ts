import { randomUUID } from 'node:crypto';

import { connect, headers as natsHeaders, type Msg, type NatsConnection, type Subscription } from 'nats';

import { busUrl } from './e2e-env';

/** A `@nestjs/microservices` reply: `{id, response}` or `{id, err}`. */
export interface NestReply {
  id: string;
  response?: unknown;
  err?: { status?: number; message?: string; reason?: string };
}

/** A message seen on the bus, decoded. */
export interface SeenMessage {
  headers: Record<string, string>;
  raw: string;
  packet: { pattern?: unknown; data?: unknown; id?: string };
}

export function connectBus(): Promise<NatsConnection> {
  return connect({ servers: busUrl(), name: 'orders-e2e' });
}

/** Sends a Nest-format request straight on the bus, bypassing every service. */
export async function requestOnBus(
  nc: NatsConnection,
  subject: string,
  data: unknown,
  messageHeaders: Record<string, string> = {},
): Promise<NestReply> {
  const outgoing = natsHeaders();
  for (const [name, value] of Object.entries(messageHeaders)) {
    outgoing.set(name, value);
  }
  const packet = { pattern: subject, data, id: randomUUID() };
  const reply = await nc.request(subject, Buffer.from(JSON.stringify(packet)), {
    timeout: 5000,
    headers: outgoing,
  });
  return JSON.parse(Buffer.from(reply.data).toString('utf8')) as NestReply;
}

function toSeen(message: Msg): SeenMessage {
  const raw = Buffer.from(message.data).toString('utf8');
  const headers: Record<string, string> = {};
  for (const name of message.headers?.keys() ?? []) {
    headers[name] = message.headers?.get(name) ?? '';
  }
  return { headers, raw, packet: JSON.parse(raw) as SeenMessage['packet'] };
}

/** A plain (non-queue) subscriber: it gets a copy of every message next to the real handler. */
export class BusTap {
  private readonly seen: SeenMessage[] = [];
  private readonly subscription: Subscription;

  private constructor(nc: NatsConnection, subject: string) {
    this.subscription = nc.subscribe(subject, {
      callback: (_error, message) => this.seen.push(toSeen(message)),
    });
  }

  /** Subscribes and waits until the server has registered the subscription. */
  static async open(nc: NatsConnection, subject: string): Promise<BusTap> {
    const tap = new BusTap(nc, subject);
    await nc.flush();
    return tap;
  }

  async waitFor(predicate: (message: SeenMessage) => boolean, timeoutMs = 5000): Promise<SeenMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.seen.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(`no matching message within ${timeoutMs} ms (saw ${this.seen.length})`);
      }
      await new Promise((done) => setTimeout(done, 50));
    }
  }

  close(): void {
    this.subscription.unsubscribe();
  }
}
