import { randomUUID } from 'node:crypto';

import { Test, type TestingModule } from '@nestjs/testing';
import { connect, type NatsConnection } from 'nats';

import { AccessTokenVerifier, AuthModule, RelayNatsClient, RevocationList } from '@relay/auth';
import { AuthSubjects, REVOCATION_BUCKET, type RevocationEntry, revocationKey } from '@relay/contracts';
import { type Database, openDatabase } from '@relay/database';
import { createTestIssuer, type JwksServer, msUntil, type NatsServer, startNatsServer } from '@relay/testing';

import { AUTH_MIGRATIONS } from '../../database/migrations';
import { RevocationOutboxRepository } from './revocation-outbox.repository';
import { RevocationPublisher } from './revocation.publisher';

// Each spec owns a private JetStream server: the durability spec stops it.
describe(RevocationPublisher.name, () => {
  const issuer = createTestIssuer();
  let jwks: JwksServer;
  let nats: NatsServer;
  let db: Database;
  let observer: NatsConnection;
  let auth: TestingModule;
  let verifierApp: TestingModule;
  let publisher: RevocationPublisher;

  // an AuthModule as auth runs it (publishing) and one as a verifier elsewhere runs it (orders)
  function authModule(audience: string, serviceName: string): Promise<TestingModule> {
    return Test.createTestingModule({
      imports: [
        AuthModule.forRoot({
          issuer: issuer.issuer,
          audience,
          jwksUri: jwks.url,
          natsUrl: nats.url,
          serviceName,
        }),
      ],
    }).compile();
  }

  beforeAll(async () => {
    jwks = await issuer.serveJwks();
    nats = await startNatsServer({ jetstream: true });
    db = await openDatabase({ migrations: AUTH_MIGRATIONS });
    auth = await authModule('auth', 'auth');
    auth.useLogger(false);
    await auth.init();
    publisher = new RevocationPublisher(
      auth.get(RelayNatsClient),
      auth.get(RevocationList),
      new RevocationOutboxRepository(db),
    );
    publisher.onApplicationBootstrap();
    await publisher.flush();
    verifierApp = await authModule('orders', 'orders');
    verifierApp.useLogger(false);
    await verifierApp.init();
    // back as soon as the server is: the durability spec reads the bucket right after NATS returns
    observer = await connect({ servers: nats.url, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  });

  afterAll(async () => {
    await publisher?.onModuleDestroy();
    await observer?.close();
    await verifierApp?.close();
    await auth?.close();
    await db?.close();
    await nats?.stop();
    await jwks?.stop();
  });

  async function revoke(entry: RevocationEntry): Promise<void> {
    await db.transaction((tx) => publisher.record(entry, tx));
    publisher.release(entry);
  }

  async function stored(key: string): Promise<unknown> {
    const kv = await observer.jetstream().views.kv(REVOCATION_BUCKET);
    const entry = await kv.get(key);
    return entry === null ? undefined : JSON.parse(new TextDecoder().decode(entry.value));
  }

  async function outboxSize(): Promise<number> {
    const rows = await db.query<{ count: string | number }>(
      'SELECT count(*) AS count FROM revocation_outbox',
    );
    return Number(rows[0]?.count);
  }

  async function verdict(token: string): Promise<string> {
    try {
      await verifierApp.get(AccessTokenVerifier).verify(token);
      return 'accepted';
    } catch (error) {
      return (error as { code?: string }).code ?? String(error);
    }
  }

  it('writes sid.<id> to the bucket, applies it here at once, announces it and empties the outbox', async () => {
    const entry = publisher.sessionEntry(randomUUID());
    const announced = new Promise((resolve) =>
      observer.subscribe(AuthSubjects.revoked, {
        callback: (_error, message) => resolve(JSON.parse(new TextDecoder().decode(message.data))),
      }),
    );
    await observer.flush();

    await revoke(entry);
    expect(() =>
      auth
        .get(RevocationList)
        .assertNotRevoked({ sessionId: entry.id } as Parameters<RevocationList['assertNotRevoked']>[0]),
    ).toThrow();
    await publisher.flush();

    expect(await stored(`sid.${entry.id}`)).toEqual(entry);
    expect(Math.abs(entry.at - Date.now() / 1000)).toBeLessThan(5);
    await expect(announced).resolves.toEqual(entry);
    expect(await outboxSize()).toBe(0);
  });

  it('keeps a revocation answered while NATS is down, and every verifier refuses within 1 s of NATS being back', async () => {
    const subject = `user-${randomUUID()}`;
    const token = issuer.mintAccessToken({ claims: { sub: subject, aud: ['orders', 'inventory', 'auth'] } });
    await msUntil(async () => (await verdict(token)) === 'accepted', 10_000);

    await nats.halt();
    const entry = publisher.subjectEntry(subject, Math.floor(Date.now() / 1000));
    await revoke(entry);
    expect(await outboxSize()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await outboxSize()).toBe(1);
    await nats.resume();
    // CONTRACT: in effect everywhere within 1 s of NATS being back (the verifier refuses every token
    // with 503 until it follows the bucket again, and may briefly accept before the entry lands)
    const [publishedAfterMs, revokedAfterMs] = await Promise.all([
      msUntil(async () => (await outboxSize()) === 0, 10_000),
      msUntil(async () => (await verdict(token)) === 'token_revoked', 10_000),
    ]);

    expect(publishedAfterMs).toBeLessThanOrEqual(1000);
    expect(revokedAfterMs).toBeLessThanOrEqual(1000);
    expect(await stored(revocationKey(entry))).toEqual(entry);
    expect(await verdict(token)).toBe('token_revoked');
  });

  it('never leaves an older not-before of a subject in place of a newer one, whichever replica publishes last', async () => {
    const subject = `user-${randomUUID()}`;
    const now = Math.floor(Date.now() / 1000);
    // a second auth replica on the same database whose publication of the older entry comes late
    const replica = new RevocationPublisher(
      auth.get(RelayNatsClient),
      auth.get(RevocationList),
      new RevocationOutboxRepository(db),
    );
    await revoke(publisher.subjectEntry(subject, now - 10));
    await publisher.flush();
    const older = replica.subjectEntry(subject, now - 100);
    await db.transaction((tx) => replica.record(older, tx));
    await replica.flush();

    // a verifier that starts now knows the bucket only
    const restarted = await authModule('inventory', 'inventory');
    restarted.useLogger(false);
    await restarted.init();
    try {
      const issuedBetween = issuer.mintAccessToken({
        claims: { sub: subject, iat: now - 50, aud: ['orders', 'inventory', 'auth'] },
      });
      await expect(restarted.get(AccessTokenVerifier).verify(issuedBetween)).rejects.toEqual(
        expect.objectContaining({ code: 'token_revoked' }),
      );
    } finally {
      await replica.onModuleDestroy();
      await restarted.close();
    }
  });

  // each replica publishes the rows it commits: one that crashed (or stopped) right after its commit
  // left its row to the others
  it('publishes, within about a second, a revocation another replica committed and never published', async () => {
    const crashed = new RevocationPublisher(
      auth.get(RelayNatsClient),
      auth.get(RevocationList),
      new RevocationOutboxRepository(db),
    );
    const entry = crashed.sessionEntry(randomUUID());
    await db.transaction((tx) => crashed.record(entry, tx));

    const publishedAfterMs = await msUntil(
      async () => (await stored(`sid.${entry.id}`)) !== undefined,
      10_000,
    );

    expect(publishedAfterMs).toBeLessThanOrEqual(1500);
    expect(await stored(`sid.${entry.id}`)).toEqual(entry);
    await msUntil(async () => (await outboxSize()) === 0, 2000);
  });

  it('announces key rotations as {kid}', async () => {
    const announced = new Promise((resolve) =>
      observer.subscribe(AuthSubjects.keysRotated, {
        max: 1,
        callback: (_error, message) => resolve(JSON.parse(new TextDecoder().decode(message.data))),
      }),
    );
    await observer.flush();

    await publisher.announceKeyRotation('kid-1');

    await expect(announced).resolves.toEqual({ kid: 'kid-1' });
  });
});
