import { CallContext, type RelayNatsClient, type RevocationList } from '@relay/auth';
import type { RevocationEntry } from '@relay/contracts';

import type { PendingRevocation, RevocationOutboxRepository } from './revocation-outbox.repository';
import { RevocationPublisher } from './revocation.publisher';

// The scheduling of flushes alone, over an in-memory outbox and bucket: the publisher's spec proves
// the same path against a real NATS, KV bucket and database.
describe(`${RevocationPublisher.name} flushes`, () => {
  const entry = (id: string): RevocationEntry => ({ kind: 'sid', id, at: 1 });

  function publisherOver(
    onEmptyRead: (release: (entry: RevocationEntry) => void) => void = () => undefined,
    // while pending, the stream's acknowledgements wait for it
    gate: Promise<void> = Promise.resolve(),
  ): {
    publisher: RevocationPublisher;
    put: string[];
    rows: PendingRevocation[];
    maxInFlight: { value: number };
    /** The request id of the call each put ran in, if any. */
    putIn: Array<string | undefined>;
  } {
    const put: string[] = [];
    const putIn: Array<string | undefined> = [];
    const maxInFlight = { value: 0 };
    const rows: PendingRevocation[] = [];
    let seq = 0;
    const outbox = {
      pending: (): Promise<PendingRevocation[]> => {
        if (rows.length === 0) onEmptyRead((next) => publisher.release(next));
        return Promise.resolve([...rows]);
      },
      remove: (removed: readonly number[]): Promise<void> => {
        for (const seq of removed) {
          rows.splice(
            rows.findIndex((row) => row.seq === seq),
            1,
          );
        }
        return Promise.resolve();
      },
    } as unknown as RevocationOutboxRepository;
    let inFlight = 0;
    const kv = {
      put: async (key: string): Promise<void> => {
        inFlight += 1;
        maxInFlight.value = Math.max(maxInFlight.value, inFlight);
        // the stream's acknowledgement comes back later
        await new Promise((resolve) => setImmediate(resolve));
        await gate;
        inFlight -= 1;
        put.push(key);
        putIn.push(CallContext.current()?.requestId);
      },
    };
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
    return { publisher, put, rows, maxInFlight, putIn };
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
      await publisher.onModuleDestroy();
    },
  );

  // a backlog left by a NATS outage: an acknowledgement per entry in turn took over a second for a few
  // hundred entries; a batch's entries are put at once, and each leaves the outbox once acknowledged
  it('puts a backlog to the bucket a batch at once, emptying the outbox', async () => {
    const { publisher, put, rows, maxInFlight } = publisherOver();
    const backlog = Array.from({ length: 150 }, (_, index) => entry(`s-${index}`));

    for (const each of backlog) publisher.release(each);
    await publisher.flush();

    expect(new Set(put)).toEqual(new Set(backlog.map((each) => `sid.${each.id}`)));
    expect(rows).toEqual([]);
    expect(maxInFlight.value).toBeGreaterThan(1);
    await publisher.onModuleDestroy();
  });

  // NATS and the database close after the hook: a flush they met would leave its entries in the
  // outbox, to be published again by the next start
  it('waits at shutdown for the flush in flight, which empties the outbox of its batch and stops', async () => {
    let answer = (): void => undefined;
    const gate = new Promise<void>((resolve) => (answer = resolve));
    const { publisher, put, rows } = publisherOver(() => undefined, gate);
    publisher.release(entry('in-flight'));
    await new Promise((resolve) => setImmediate(resolve));

    let hasStopped = false;
    const stopping = publisher.onModuleDestroy().then(() => (hasStopped = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(hasStopped).toBe(false);
    answer();
    await stopping;

    expect(put).toEqual(['sid.in-flight']);
    expect(rows).toEqual([]);
  });

  // the flush and its retries publish every caller's entries: a log line of theirs names no one of them
  it('flushes outside the call whose release set it going', async () => {
    const { publisher, put, putIn } = publisherOver();

    await CallContext.run({ requestId: 'logout-of-a' }, () => {
      publisher.release(entry('of-a'));
      return Promise.resolve();
    });
    await publisher.flush();

    expect([put, putIn]).toEqual([['sid.of-a'], [undefined]]);
    await publisher.onModuleDestroy();
  });
});
