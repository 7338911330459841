import { Test, type TestingModule } from '@nestjs/testing';
import { connect, ErrorCode, Events, type NatsConnection } from 'nats';

import { REVOCATION_BUCKET } from '@relay/contracts';
import {
  createRevocationBucket,
  createTestIssuer,
  msUntil,
  type NatsServer,
  startNatsServer,
} from '@relay/testing';

import { AuthModule } from '../auth.module';
import { RelayNatsClient } from '../nats/relay-nats-client';
import { RevocationList } from './revocation-list';

const STREAM = `KV_${REVOCATION_BUCKET}`;

// Relay's orders and inventory start beside auth, often before it has created the revocation
// bucket, and their bus identities may not create streams: bound only, they wait for the bucket
// instead of trying to create it, which the server would refuse as a permissions violation.
describe('RevocationList on the closed bus, started before the issuer created the bucket', () => {
  const issuer = createTestIssuer();
  let nats: NatsServer;
  let auth: NatsConnection;

  beforeEach(async () => {
    nats = await startNatsServer({ closed: true });
    auth = await connect(nats.connectionOptions('auth'));
  });

  afterEach(async () => {
    await auth?.close();
    await nats?.stop();
  });

  /** Inventory's verifier, started (onApplicationBootstrap included), with the violations its connection is told of. */
  async function startInventory(createRevocationBucket?: boolean) {
    const app: TestingModule = await Test.createTestingModule({
      imports: [
        AuthModule.forRoot({
          issuer: issuer.issuer,
          audience: 'inventory',
          natsUrl: nats.url,
          natsTlsCaFile: nats.bus?.caFile,
          natsNkeySeedFile: nats.bus?.seedFiles.inventory,
          serviceName: 'inventory',
          createRevocationBucket,
        }),
      ],
    }).compile();
    const warnings: string[] = [];
    const ignore = (): void => undefined;
    app.useLogger({ log: ignore, error: ignore, warn: (message: string) => warnings.push(message) });
    const violations: string[] = [];
    const connection = await app.get(RelayNatsClient).revocationConnection();
    void (async () => {
      for await (const status of connection.status()) {
        if (status.type === Events.Error && status.data === ErrorCode.PermissionsViolation) {
          violations.push(status.permissionContext?.subject ?? 'unknown');
        }
      }
    })();
    await app.init();
    return { app, list: app.get(RevocationList), violations, warnings };
  }

  async function streamExists(): Promise<boolean> {
    const manager = await auth.jetstreamManager({ checkAPI: false });
    return manager.streams.info(STREAM).then(
      () => true,
      (error: Error) => (error.message === 'stream not found' ? false : Promise.reject(error)),
    );
  }

  it('binds only with createRevocationBucket false: no violation, not synced, then synced once auth creates the bucket', async () => {
    const { app, list, violations, warnings } = await startInventory(false);
    try {
      // several retries (every 250 ms) while the bucket is missing
      await new Promise((resolve) => setTimeout(resolve, 1200));
      const syncedWhileMissing = list.isSynced();
      const existsWhileMissing = await streamExists();

      await createRevocationBucket(auth);
      await msUntil(() => list.isSynced(), 10_000);

      expect({ syncedWhileMissing, existsWhileMissing, violations }).toEqual({
        syncedWhileMissing: false,
        existsWhileMissing: false,
        violations: [],
      });
      expect(warnings).toEqual([
        `Revocation list not synced: JetStream KV ${REVOCATION_BUCKET} unavailable (not created yet: the issuer creates it); refusing tokens until it is, retrying`,
      ]);
    } finally {
      await app.close();
    }
  });

  // on the connection of its calls, JetStream's answers would share the inbox inventory may answer
  // orders into: the bus denies inventory only this prefix (libs/nats-bus)
  it('follows the bucket on a connection of its own, whose inbox is <prefix>.revocations.<random>', async () => {
    const { app, list } = await startInventory(false);
    try {
      await createRevocationBucket(auth);
      await msUntil(() => list.isSynced(), 10_000);
      const client = app.get(RelayNatsClient);
      const inboxPrefixOf = (connection: NatsConnection): unknown =>
        (connection as unknown as { options: { inboxPrefix?: string } }).options.inboxPrefix;

      // under `<prefix>.revocations`, which libs/nats-bus denies to a callee answering into the inbox
      // (its spec pins the same name), then 128 random bits: no reader can point a consumer of its
      // own at the watch's subject
      const feedPrefix = /^_INBOX_inventory\.revocations\.[0-9a-f]{32}$/;
      expect(inboxPrefixOf(await client.revocationConnection())).toMatch(feedPrefix);
      expect(inboxPrefixOf(await client.connection())).toBe('_INBOX_inventory');
      expect(await client.revocationConnection()).not.toBe(await client.connection());

      // that connection closed for good: the feed is lost, and follows again on a new one
      const first = await client.revocationConnection();
      await first.close();
      await msUntil(() => !list.isSynced(), 5000);
      await msUntil(() => list.isSynced(), 10_000);
      const second = await client.revocationConnection();
      expect(second).not.toBe(first);
      expect(second.isClosed()).toBe(false);
      expect(inboxPrefixOf(second)).toMatch(feedPrefix);
      expect(inboxPrefixOf(second)).not.toBe(inboxPrefixOf(first));
    } finally {
      await app.close();
    }
  });

  it('tries to open the bucket by default, which this identity is refused (the create)', async () => {
    const { app, list, violations } = await startInventory();
    try {
      await msUntil(() => violations.length > 0, 5000);

      expect(violations).toContain(`$JS.API.STREAM.CREATE.${STREAM}`);
      expect(list.isSynced()).toBe(false);
      expect(await streamExists()).toBe(false);
    } finally {
      await app.close();
    }
  });
});
