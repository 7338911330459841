import { randomUUID } from 'node:crypto';

import { InventorySubjects } from '@relay/contracts';
import { DATABASE, type Database } from '@relay/database';
import { createTestIssuer, type TestIssuer } from '@relay/testing';

import { claimsOf } from './testing/inventory-stand-in';
import { type OrdersTestBed, startOrdersTestBed, TEST_CLIENTS } from './testing/orders-test-app';

// PROPAGATION_MODE=exchange: inventory gets a token narrowed to its audience (RFC 8693), and the
// inventory.reserved event back is only accepted with inventory's own token for audience orders.
describe('orders app with PROPAGATION_MODE=exchange', () => {
  let bed: OrdersTestBed<TestIssuer>;
  let alice: string;

  beforeAll(async () => {
    bed = await startOrdersTestBed((url) => createTestIssuer({ issuer: url }), {
      PROPAGATION_MODE: 'exchange',
    });
    alice = bed.issuer.mintAccessToken({ claims: { sub: 'alice', roles: ['customer'] } });
  }, 90_000);

  afterAll(async () => {
    await bed?.close();
  });

  async function acknowledged(id: string): Promise<boolean> {
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const [row] = await bed.app
        .get<Database>(DATABASE)
        .query<{ at: unknown }>('SELECT inventory_acknowledged_at AS at FROM orders WHERE id = $1', [id]);
      if (row.at !== null) return true;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return false;
  }

  async function placeOrder(): Promise<string> {
    const sku = `sku-${randomUUID().slice(0, 8)}`;
    bed.inventory.setStock(sku, 5);
    const response = await bed.app.inject({
      method: 'POST',
      url: '/orders',
      headers: { authorization: `Bearer ${alice}` },
      payload: { items: [{ sku, quantity: 1 }] },
    });
    expect(response.statusCode).toBe(201);
    return (response.json() as { id: string }).id;
  }

  it('reserves with a token exchanged for audience inventory, acting for orders', async () => {
    const id = await placeOrder();

    const [reserve] = bed.inventory
      .callsOf(InventorySubjects.reserve)
      .filter((call) => call.data['orderId'] === id);
    expect(reserve.authorization).not.toBe(`Bearer ${alice}`);
    expect(claimsOf(reserve.authorization)).toMatchObject({
      sub: 'alice',
      aud: ['inventory'],
      act: { sub: 'orders' },
    });
    expect(bed.auth.grants).toContainEqual({
      grantType: 'urn:ietf:params:oauth:grant-type:token-exchange',
      clientId: 'orders',
      audience: 'inventory',
    });
  });

  it('refuses the event carrying the narrowed token (audience inventory)', async () => {
    bed.inventory.eventToken = undefined;

    expect(await acknowledged(await placeOrder())).toBe(false);
  });

  it("accepts the event carrying inventory's own token for audience orders", async () => {
    bed.inventory.eventToken = bed.issuer.mintAccessToken({
      claims: {
        sub: 'inventory',
        client_id: 'inventory',
        roles: [],
        scope: TEST_CLIENTS.inventory.scopes.join(' '),
        aud: ['orders'],
      },
    });

    expect(await acknowledged(await placeOrder())).toBe(true);
  });
});
