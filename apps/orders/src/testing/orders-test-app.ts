import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { NestFastifyApplication } from '@nestjs/platform-fastify';

import { createServiceApp } from '@relay/bootstrap';
import { ServiceScopes } from '@relay/contracts';
import { createRevocationBucket, NatsTestClient, startNatsServer } from '@relay/testing';

import { FakeAuthServer, type FakeAuthIssuer } from './fake-auth-server';
import { InventoryStandIn } from './inventory-stand-in';

/** Client credentials of orders and inventory in the fake issuer, as AUTH_CLIENTS would grant them. */
export const TEST_CLIENTS = {
  orders: { secret: 'orders-secret', scopes: [ServiceScopes.inventoryRelease] },
  inventory: { secret: 'inventory-secret', scopes: [ServiceScopes.ordersAcknowledge] },
};

/** Everything an orders integration spec runs against. */
export interface OrdersTestBed<TIssuer> {
  app: NestFastifyApplication;
  issuer: TIssuer;
  auth: FakeAuthServer;
  inventory: InventoryStandIn;
  natsUrl: string;
  close(): Promise<void>;
}

/**
 * The real orders app (`createServiceApp`, as `main.ts` builds it) on a private NATS and embedded
 * PostgreSQL, with a fake issuer and an inventory stand-in (specs only). `env` adds variables;
 * import nothing from the app before this runs: its config is validated when app.module loads.
 */
export async function startOrdersTestBed<TIssuer extends FakeAuthIssuer>(
  createIssuer: (issuerUrl: string) => TIssuer,
  env: Record<string, string> = {},
): Promise<OrdersTestBed<TIssuer>> {
  const nats = await startNatsServer({ jetstream: true });
  const auth = await FakeAuthServer.start(TEST_CLIENTS);
  const issuer = createIssuer(auth.url);
  auth.use(issuer);
  const inventory = await InventoryStandIn.start(nats.url);
  // the issuer creates the revocation bucket; orders only binds to it
  const bus = await NatsTestClient.connect(nats.url);
  await createRevocationBucket(bus.connection).finally(() => bus.close());
  const dataDir = mkdtempSync(join(tmpdir(), 'relay-orders-'));
  delete process.env['DATABASE_URL'];
  Object.assign(process.env, {
    AUTH_ISSUER: auth.url,
    DATA_DIR: dataDir,
    NATS_URL: nats.url,
    LOG_LEVEL: 'error',
    AUTH_CLIENT_ID: 'orders',
    AUTH_CLIENT_SECRET: TEST_CLIENTS.orders.secret,
    ...env,
  });
  const { AppModule } = await import('../app.module');
  const app = await createServiceApp(AppModule, { name: 'orders', natsUrl: nats.url, logLevel: 'error' });
  await app.init();
  await app.startAllMicroservices();
  await app.getHttpAdapter().getInstance().ready();
  return {
    app,
    issuer,
    auth,
    inventory,
    natsUrl: nats.url,
    close: async () => {
      await app.close();
      await inventory.stop();
      await auth.stop();
      await nats.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
