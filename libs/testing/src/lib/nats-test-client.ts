import { randomUUID } from 'node:crypto';

import { connect, headers as createHeaders, type MsgHdrs, type NatsConnection } from 'nats';

/** A Nest NATS reply: `{id, response}` on success, `{id, err}` on failure. */
export interface NestReply<TResponse = unknown> {
  id: string;
  response?: TResponse;
  err?: unknown;
  isDisposed?: boolean;
}

/** Options of one request or event. */
export interface NatsTestCallOptions {
  /** NATS headers (names as given; nats.js lookups are case-sensitive); a list sends the header once per value. */
  headers?: Record<string, string | readonly string[]>;
  /** Default: 2000 ms. */
  timeoutMs?: number;
}

/** A raw nats.js client speaking Nest's wire format, for black-box tests of NATS handlers. */
export class NatsTestClient {
  private constructor(readonly connection: NatsConnection) {}

  /** Connects to `url` (default `nats://127.0.0.1:4222`). */
  static async connect(url = 'nats://127.0.0.1:4222'): Promise<NatsTestClient> {
    return new NatsTestClient(await connect({ servers: url, name: 'relay-test-client' }));
  }

  /** Sends `{pattern: subject, data, id}` and returns the decoded reply. */
  async request<TResponse = unknown>(
    subject: string,
    data: unknown,
    options: NatsTestCallOptions = {},
  ): Promise<NestReply<TResponse>> {
    const payload = JSON.stringify({ pattern: subject, data, id: randomUUID() });
    const message = await this.connection.request(subject, new TextEncoder().encode(payload), {
      timeout: options.timeoutMs ?? 2000,
      ...(options.headers ? { headers: toHeaders(options.headers) } : {}),
    });
    return JSON.parse(new TextDecoder().decode(message.data)) as NestReply<TResponse>;
  }

  /** Publishes a Nest event `{pattern: subject, data}` and flushes it to the server. */
  async emit(subject: string, data: unknown, options: NatsTestCallOptions = {}): Promise<void> {
    const payload = JSON.stringify({ pattern: subject, data });
    this.connection.publish(subject, new TextEncoder().encode(payload), {
      ...(options.headers ? { headers: toHeaders(options.headers) } : {}),
    });
    await this.connection.flush();
  }

  /** Drains and closes the connection. */
  async close(): Promise<void> {
    if (!this.connection.isClosed()) await this.connection.drain();
  }
}

function toHeaders(record: Record<string, string | readonly string[]>): MsgHdrs {
  const headers = createHeaders();
  for (const [name, value] of Object.entries(record)) {
    for (const each of typeof value === 'string' ? [value] : value) headers.append(name, each);
  }
  return headers;
}
