import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import { connect, type NatsConnection } from 'nats';

import { type RevocationEntry, revocationKey } from '@relay/contracts';
import {
  createRevocationBucket,
  type NatsServer,
  startNatsServer,
  startTcpProxy,
  type TcpProxy,
} from '@relay/testing';

import { type RevocationSink, watchRevocations } from './revocation-feed';

// enough entries that the replay is still arriving when the first one is applied
const ENTRIES = 20_000;
const REPLAY_STALL_LIMIT_MS = 10_000;

describe(watchRevocations.name, () => {
  const bucket = `relay-revocations-feed-${randomUUID().slice(0, 8)}`;
  let nats: NatsServer;
  let writer: NatsConnection;

  beforeAll(async () => {
    nats = await startNatsServer({ jetstream: true });
    writer = await connect({ servers: nats.url });
    const kv = await createRevocationBucket(writer, bucket);
    const at = Math.floor(Date.now() / 1000);
    for (let start = 0; start < ENTRIES; start += 1000) {
      await Promise.all(
        Array.from({ length: 1000 }, (_, index) => {
          const entry: RevocationEntry = { kind: 'jti', id: `jti-${start + index}`, at };
          return kv.put(revocationKey(entry), JSON.stringify(entry));
        }),
      );
    }
  }, 60_000);

  afterAll(async () => {
    await writer?.close();
    await nats?.stop();
  });

  describe('through a proxy', () => {
    let proxy: TcpProxy;
    let reader: NatsConnection;

    beforeEach(async () => {
      proxy = await startTcpProxy(nats.port);
      reader = await connect({ servers: `127.0.0.1:${proxy.port}` });
    });

    afterEach(async () => {
      await reader.close();
      await proxy.stop();
    });

    /** Replays the bucket, applying each entry in `applyMs` of busy CPU; how many entries it applied. */
    async function replay(applyMs: number, replayStallLimitMs = REPLAY_STALL_LIMIT_MS): Promise<number> {
      let applied = 0;
      const apply = (): void => {
        applied += 1;
        const until = performance.now() + applyMs;
        while (performance.now() < until);
      };
      const feed = await watchRevocations(
        { connection: () => Promise.resolve(reader) },
        bucket,
        { apply, remove: () => undefined, lost: () => undefined },
        { replayStallLimitMs, createBucket: false },
      );
      feed.stop();
      return applied;
    }

    it('replays every entry, then resolves', async () => {
      expect(await replay(0)).toBe(ENTRIES);
    }, 30_000);

    // a loaded machine: the entries arrive faster than they are applied, and the answer to the feed's
    // ping waits behind them in the socket for longer than the silence limit
    it('replays in full a bucket it applies more slowly than the server sends it', async () => {
      expect(await replay(0.1)).toBe(ENTRIES);
    }, 30_000);

    it('takes as long as a replay that keeps arriving needs, past its stall limit', async () => {
      const startedAt = performance.now();

      expect(await replay(0.25, 1000)).toBe(ENTRIES);
      // 20 000 entries at 0.25 ms each: the replay outlasted its stall limit four times at least
      expect(performance.now() - startedAt).toBeGreaterThan(4000);
    }, 30_000);

    it('fails as soon as the feed is lost during its replay, not at its stall limit', async () => {
      let applied = 0;
      let lostAt: number | undefined;
      let cutAt: number | undefined;
      const sink: RevocationSink = {
        apply: () => {
          applied += 1;
          if (cutAt === undefined) {
            // a partition: bytes held both ways, no socket closed; the feed's probe must notice
            cutAt = Date.now();
            proxy.cut();
          }
        },
        remove: () => undefined,
        lost: () => (lostAt = Date.now()),
      };

      const outcome = await watchRevocations({ connection: () => Promise.resolve(reader) }, bucket, sink, {
        replayStallLimitMs: REPLAY_STALL_LIMIT_MS,
        createBucket: false,
      }).then(
        (feed) => {
          feed.stop();
          return `resolved after ${applied} of ${ENTRIES} entries`;
        },
        (error: Error) => error.message,
      );
      const failedAt = Date.now();

      expect(outcome).toBe(`the feed of ${bucket} was lost during its replay`);
      expect(applied).toBeLessThan(ENTRIES);
      expect(lostAt).toBeDefined();
      // the probe's silence limit (700 ms) and a tick, not the 10 s stall limit
      expect(failedAt - (cutAt ?? 0)).toBeLessThan(3000);
    }, 30_000);
  });
});
