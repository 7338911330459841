import { randomUUID } from 'node:crypto';

import { connect, type NatsConnection, type Subscription } from 'nats';

import type { RelayNatsClient, RevocationList } from '@relay/auth';
import { AuthSubjects, REVOCATION_BUCKET, type RevocationEntry } from '@relay/contracts';

import { RevocationPublisher } from './revocation.publisher';

const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';

describe(RevocationPublisher.name, () => {
  let connection: NatsConnection;
  let nats: RelayNatsClient;
  let applied: RevocationEntry[];
  let publisher: RevocationPublisher;

  beforeAll(async () => {
    connection = await connect({ servers: NATS_URL, name: 'auth-revocation-spec' });
    // the publisher only needs the connection of the app's RelayNatsClient
    nats = { connection: () => Promise.resolve(connection) } as unknown as RelayNatsClient;
  });

  afterAll(async () => {
    await connection.close();
  });

  beforeEach(() => {
    applied = [];
    publisher = new RevocationPublisher(nats, {
      apply: (entry: RevocationEntry) => applied.push(entry),
    } as unknown as RevocationList);
  });

  function nextMessage(subject: string): Promise<unknown> {
    return new Promise((resolve) => {
      const subscription: Subscription = connection.subscribe(subject, {
        max: 1,
        callback: (_error, message) => resolve(JSON.parse(new TextDecoder().decode(message.data))),
      });
      void subscription;
    });
  }

  it('writes sid.<id> to the KV bucket, applies it locally and announces it', async () => {
    const sessionId = randomUUID();
    const announced = nextMessage(AuthSubjects.revoked);
    await connection.flush();

    await publisher.revokeSession(sessionId);

    const kv = await connection.jetstream().views.kv(REVOCATION_BUCKET);
    const stored = await kv.get(`sid.${sessionId}`);
    const value = JSON.parse(new TextDecoder().decode(stored?.value)) as RevocationEntry;
    expect(value).toEqual({ kind: 'sid', id: sessionId, at: expect.any(Number) });
    expect(Math.abs(value.at - Date.now() / 1000)).toBeLessThan(5);
    expect(applied).toEqual([value]);
    await expect(announced).resolves.toEqual(value);
  });

  it('writes sub.<id> with the given not-before time', async () => {
    const subject = randomUUID();

    await publisher.revokeSubjectBefore(subject, 1_700_000_000);

    const kv = await connection.jetstream().views.kv(REVOCATION_BUCKET);
    const stored = await kv.get(`sub.${subject}`);
    expect(JSON.parse(new TextDecoder().decode(stored?.value))).toEqual({
      kind: 'sub',
      id: subject,
      at: 1_700_000_000,
    });
  });

  it('announces key rotations as {kid}', async () => {
    const announced = nextMessage(AuthSubjects.keysRotated);
    await connection.flush();

    await publisher.announceKeyRotation('kid-1');

    await expect(announced).resolves.toEqual({ kid: 'kid-1' });
  });
});
