import { randomUUID } from 'node:crypto';
import { type AddressInfo, createConnection, createServer as createNetServer } from 'node:net';
import { performance } from 'node:perf_hooks';

import { connect, delay, type NatsConnection } from 'nats';

import { type RevocationEntry, revocationKey } from '@relay/contracts';
import {
  createRevocationBucket,
  type NatsServer,
  startNatsServer,
  startTcpProxy,
  type TcpProxy,
} from '@relay/testing';

import { type RevocationSink, watchRevocations } from './revocation-feed';

/** The event loop does nothing else for `ms` (a long synchronous task). */
function standStill(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

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

  /** Follows `name` on `reader`, applying nothing; `lostAt()`: when the feed reported itself lost. */
  async function follow(reader: NatsConnection, name = bucket) {
    let lostAt: number | undefined;
    const sink: RevocationSink = {
      apply: () => undefined,
      remove: () => undefined,
      lost: () => (lostAt ??= performance.now()),
    };
    const feed = await watchRevocations({ connection: () => Promise.resolve(reader) }, name, sink, {
      replayStallLimitMs: REPLAY_STALL_LIMIT_MS,
      createBucket: false,
    });
    return { feed, lostAt: () => lostAt };
  }

  /** Calls `onProbe` as the feed sends each of its probes on `reader`, with the probe's answer. */
  function onProbes(reader: NatsConnection, onProbe: (answer: Promise<unknown>) => void): void {
    const request = reader.request.bind(reader);
    reader.request = (subject, ...rest) => {
      const answer = request(subject, ...rest);
      if (subject.startsWith('$JS.API.STREAM.INFO.')) onProbe(answer);
      return answer;
    };
  }

  // the probe's answer arrives while the turn after a stall is busy too: it waits in the socket, read
  // after the next tick (timers run before reads), and is no silence of the server's
  it('does not take its own stall, then a busy turn, for the server going silent', async () => {
    const reader = await connect({ servers: nats.url });
    let answeredProbes = 0;
    onProbes(reader, (answer) => {
      answer.then(
        () => (answeredProbes += 1),
        () => undefined,
      );
    });
    const { feed, lostAt } = await follow(reader);
    // a socket whose data costs 400 ms to handle: read in the same turn as the probe's answer would be,
    // it keeps that answer waiting past the next tick (as a burst of calls queued during a stall would)
    const busyServer = createNetServer((socket) => socket.on('data', () => standStill(400)));
    await new Promise<void>((resolve) => busyServer.listen(0, '127.0.0.1', resolve));
    const busyClient = createConnection((busyServer.address() as AddressInfo).port, '127.0.0.1');
    await new Promise((resolve) => busyClient.once('connect', resolve));
    try {
      // right after a probe was answered: none is in flight as the process stands still
      const answered = answeredProbes;
      while (answeredProbes === answered) await delay(1);
      busyClient.write('x');
      standStill(1500);
      await delay(700);

      expect(lostAt()).toBeUndefined();
      expect(feed.isStopped).toBe(false);
    } finally {
      feed.stop();
      busyClient.destroy();
      busyServer.close();
      await reader.close();
    }
  }, 30_000);

  // the probe's answer arrives while the process stands still: read after the stall, it is JetStream
  // answering in time, not silence (nor an answer to drop because the request gave up meanwhile)
  it('counts a probe’s answer that waited in the socket while the process stood still', async () => {
    const reader = await connect({ servers: nats.url });
    let isArmed = false;
    let hasStoodStill = false;
    onProbes(reader, () => {
      if (!isArmed || hasStoodStill) return;
      hasStoodStill = true;
      // once the request has gone out, before its answer is read: the next turn's timers run first
      setImmediate(() => standStill(1500));
    });
    const { feed, lostAt } = await follow(reader);
    try {
      isArmed = true;
      while (!hasStoodStill) await delay(1);
      await delay(2000);

      expect(lostAt()).toBeUndefined();
      expect(feed.isStopped).toBe(false);
    } finally {
      feed.stop();
      await reader.close();
    }
  }, 30_000);

  it('fails an attempt whose connection closes while its first probe waits for an answer', async () => {
    const reader = await connect({ servers: nats.url });
    onProbes(reader, () => void reader.close());

    const attempt = watchRevocations(
      { connection: () => Promise.resolve(reader) },
      bucket,
      { apply: () => undefined, remove: () => undefined, lost: () => undefined },
      { replayStallLimitMs: 1000, createBucket: false },
    );

    await expect(attempt).rejects.toThrow(/no answer to \$JS\.API\.STREAM\.INFO\..+ within 1000 ms/);
  }, 30_000);

  // core NATS still answers, JetStream no longer serves the bucket (here: its stream deleted; also a
  // server that stopped JetStream for lack of storage, a cluster without a leader): the watch would
  // wait in silence, and the issuer could write no revocation
  it('reports the feed lost within 1 s once JetStream no longer serves the bucket', async () => {
    const small = `relay-revocations-gone-${randomUUID().slice(0, 8)}`;
    await createRevocationBucket(writer, small);
    const reader = await connect({ servers: nats.url });
    const { feed, lostAt } = await follow(reader, small);
    try {
      await delay(500);
      expect(lostAt()).toBeUndefined();

      await (await writer.jetstreamManager()).streams.delete(`KV_${small}`);
      const deletedAt = performance.now();
      while (lostAt() === undefined && performance.now() - deletedAt < 5000) await delay(10);

      expect(feed.isStopped).toBe(true);
      // 700 ms of silence and a 150 ms tick after the last good answer (the contract's 1 s), with slack
      // for a loaded machine's late timers; the ping this probe replaced never noticed
      expect((lostAt() ?? Infinity) - deletedAt).toBeLessThan(1500);
    } finally {
      feed.stop();
      await reader.close();
    }
  }, 30_000);

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
