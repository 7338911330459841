import { ConfigService } from '@nestjs/config';

import type { RelayNatsCallOptions, RelayNatsClient } from '@relay/auth';
import { InventorySubjects } from '@relay/contracts';

import type { OrdersConfig } from '../config/orders.config';
import { InventoryClient } from './inventory.client';

interface SentMessage {
  subject: string;
  data: unknown;
  options?: RelayNatsCallOptions;
}

class FakeNatsClient implements Pick<RelayNatsClient, 'send'> {
  readonly sent: SentMessage[] = [];

  constructor(private readonly reply: unknown) {}

  send<TResult>(subject: string, data: unknown, options?: RelayNatsCallOptions): Promise<TResult> {
    this.sent.push({ subject, data, options });
    return Promise.resolve(this.reply as TResult);
  }
}

function createClient(reply: unknown): { client: InventoryClient; nats: FakeNatsClient } {
  const nats = new FakeNatsClient(reply);
  const config = new ConfigService<OrdersConfig, true>({
    ORDERS_RPC_TIMEOUT_MS: 1234,
    PROPAGATION_MODE: 'forward',
  });
  return { client: new InventoryClient(nats as unknown as RelayNatsClient, config), nats };
}

describe(InventoryClient.name, () => {
  const orderId = '6f1c7b1e-5d7a-4b43-9d1a-0d3f1a2b3c4d';

  it('sends reserve on inventory.reserve with the configured timeout', async () => {
    const { client, nats } = createClient({ orderId, reserved: true });

    const result = await client.reserve({ orderId, items: [{ sku: 'sku-apple', quantity: 1 }] });

    expect(result).toEqual({ orderId, reserved: true });
    expect(nats.sent).toEqual([
      {
        subject: InventorySubjects.reserve,
        data: { orderId, items: [{ sku: 'sku-apple', quantity: 1 }] },
        options: { timeoutMs: 1234 },
      },
    ]);
  });

  it('sends release on inventory.release', async () => {
    const { client, nats } = createClient({ orderId, released: true });

    await client.release(orderId);

    expect(nats.sent).toEqual([
      { subject: InventorySubjects.release, data: { orderId }, options: { timeoutMs: 1234 } },
    ]);
  });

  it("sends release with orders' own token when asked to act as the service", async () => {
    const { client, nats } = createClient({ orderId, released: true });

    await client.release(orderId, { asService: true });

    expect(nats.sent[0]).toMatchObject({
      subject: InventorySubjects.release,
      options: { timeoutMs: 1234, propagation: 'service' },
    });
  });

  it('sends stock on inventory.stock', async () => {
    const { client, nats } = createClient({ sku: 'sku-apple', available: 3 });

    expect(await client.stock('sku-apple')).toEqual({ sku: 'sku-apple', available: 3 });
    expect(nats.sent[0]).toMatchObject({ subject: InventorySubjects.stock, data: { sku: 'sku-apple' } });
  });
});
