import type { RelayNatsClient, RevocationList } from '@relay/auth';
import type { RevocationEntry } from '@relay/contracts';

import type { PendingRevocation, RevocationOutboxRepository } from './revocation-outbox.repository';
import { RevocationPublisher } from './revocation.publisher';

// The scheduling of flushes alone, over an in-memory outbox and bucket: the publisher's spec proves
// the same path against a real NATS, KV bucket and database.
describe(`${RevocationPublisher.name} flushes`, () => {
  const entry = (id: string): RevocationEntry => ({ kind: 'sid', id, at: 1 });

  function publisherOver(onEmptyRead: (release: (entry: RevocationEntry) => void) => void): {
    publisher: RevocationPublisher;
    put: string[];
    rows: PendingRevocation[];
  } {
    const put: string[] = [];
    const rows: PendingRevocation[] = [];
    let seq = 0;
    const outbox = {
      pending: (): Promise<PendingRevocation[]> => {
        if (rows.length === 0) onEmptyRead((next) => publisher.release(next));
        return Promise.resolve([...rows]);
      },
      remove: (removed: number): Promise<void> => {
        rows.splice(
          rows.findIndex((row) => row.seq === removed),
          1,
        );
        return Promise.resolve();
      },
    } as unknown as RevocationOutboxRepository;
    const kv = { put: (key: string) => Promise.resolve(put.push(key)) };
    const connection = {
      jetstream: () => ({ views: { kv: () => Promise.resolve(kv) } }),
      publish: () => undefined,
    };
    const nats = { connection: () => Promise.resolve(connection) } as unknown as RelayNatsClient;
    const revocations = { apply: () => undefined } as unknown as RevocationList;
    const publisher = new RevocationPublisher(nats, revocations, outbox);
    const add = publisher.release.bind(publisher);
    publisher.release = (next: RevocationEntry): void => {
      rows.push({ seq: (seq += 1), entry: next });
      add(next);
    };
    return { publisher, put, rows };
  }

  // a release committed while a flush reads the outbox for the last time, landing a few microtasks
  // later: whichever step of the flush's ending it meets, it is published now, not at the next poll
  it.each([0, 1, 2, 3, 4, 5, 6])(
    'publishes a release landing %i microtasks after the last read',
    async (hops) => {
      let isReleased = false;
      const { publisher, put } = publisherOver((release) => {
        if (isReleased) return;
        isReleased = true;
        let landing = Promise.resolve();
        for (let hop = 0; hop < hops; hop += 1) landing = landing.then(() => undefined);
        void landing.then(() => release(entry('late')));
      });

      publisher.release(entry('first'));

      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(put).toEqual(['sid.first', 'sid.late']);
      publisher.onModuleDestroy();
    },
  );
});
