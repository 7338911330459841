import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

import {
  connect,
  type ConnectionOptions,
  ErrorCode,
  headers as natsHeaders,
  type Msg,
  type NatsConnection,
  nkeyAuthenticator,
  type Subscription,
} from 'nats';

import type { BusConnectionInfo, BusService } from '@relay/testing';

import { e2eBus } from './e2e-env';

const CONNECT_TIMEOUT_MS = 10_000;
const CONNECT_ATTEMPTS = 3;

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

/** nats.js options to connect to the closed `bus` as service `as`: TLS, its NKey and its inbox prefix. */
export function busConnectionOptions(as: BusService, bus: BusConnectionInfo = e2eBus()): ConnectionOptions {
  const seed = readFileSync(bus.seedFiles[as], 'utf8').trim();
  return {
    servers: bus.url,
    name: `orders-e2e-as-${as}`,
    tls: { caFile: bus.caFile },
    authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)),
    inboxPrefix: bus.inboxPrefixes[as],
  };
}

/**
 * Connects to the closed bus (global setup's, or a fault cluster's `bus`) as service `as`, with only
 * that identity's permissions: e.g. `orders` to send inventory requests, `inventory` to see them.
 */
export async function connectBus(as: BusService, bus?: BusConnectionInfo): Promise<NatsConnection> {
  const options = { ...busConnectionOptions(as, bus), timeout: CONNECT_TIMEOUT_MS };
  // a first connect has timed out (nats.js TIMEOUT) on a heavily loaded 2-core machine; the next one worked
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await connect(options);
    } catch (error) {
      if (attempt === CONNECT_ATTEMPTS) throw error;
    }
  }
}

/**
 * Every permissions violation the server reports on `nc` from now on (e.g. `publish to auth.revoked`),
 * appended as it arrives: a publish the bus refused is silent otherwise.
 */
export function permissionViolations(nc: NatsConnection): string[] {
  const seen: string[] = [];
  void (async () => {
    for await (const status of nc.status()) {
      if (status.data !== ErrorCode.PermissionsViolation) continue;
      const context = status.permissionContext;
      seen.push(context === undefined ? String(status.data) : `${context.operation} to ${context.subject}`);
    }
  })();
  return seen;
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

/**
 * A plain (non-queue) subscriber: it gets a copy of every message next to the real handler. Open it
 * on a connection whose identity may subscribe to the subject (its receiving service's).
 */
export class BusTap {
  private readonly seen: SeenMessage[] = [];
  private readonly subscription: Subscription;
  // e.g. the bus refused the subscription to this identity
  private failure: Error | undefined;

  private constructor(nc: NatsConnection, subject: string) {
    this.subscription = nc.subscribe(subject, {
      callback: (error, message) => {
        if (error) this.failure ??= error;
        else this.seen.push(toSeen(message));
      },
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
      if (this.failure) throw new Error(`the tap failed: ${this.failure.message}`);
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
