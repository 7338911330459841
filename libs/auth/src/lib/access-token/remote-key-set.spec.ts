import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { type TestingModule, Test } from '@nestjs/testing';

import { AuthSubjects } from '@relay/contracts';
import { createTestIssuer, type JwksServer, NatsTestClient } from '@relay/testing';

import { NATS_URL } from '../../test-support/probe-app';
import { deleteBucket, uniqueBucketName } from '../../test-support/revocation-bucket';
import { AuthModule } from '../auth.module';
import { AccessTokenVerifier } from './access-token-verifier';
import { RemoteKeySet } from './remote-key-set';

describe('AccessTokenVerifier JWKS cache', () => {
  const issuer = createTestIssuer();
  const bucket = uniqueBucketName();
  let jwks: JwksServer;
  let nats: NatsTestClient;
  let moduleRef: TestingModule;
  let verifier: AccessTokenVerifier;

  beforeAll(async () => {
    jwks = await issuer.serveJwks();
    nats = await NatsTestClient.connect(NATS_URL);
    moduleRef = await Test.createTestingModule({
      imports: [
        AuthModule.forRoot({
          issuer: issuer.issuer,
          audience: 'orders',
          jwksUri: jwks.url,
          natsUrl: NATS_URL,
          serviceName: `jwks-${randomUUID().slice(0, 8)}`,
          revocationBucket: bucket,
        }),
      ],
    }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    verifier = moduleRef.get(AccessTokenVerifier);
  });

  afterAll(async () => {
    await moduleRef?.close();
    await deleteBucket(nats, bucket);
    await nats?.close();
    await jwks?.stop();
  });

  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

  /** Retries `verify(token)` every `intervalMs`; the ms it took to be accepted (fails after 1.5 s). */
  async function msUntilAccepted(token: string, intervalMs: number): Promise<number> {
    const started = Date.now();
    while (Date.now() - started < 1500) {
      if (
        await verifier.verify(token).then(
          () => true,
          () => false,
        )
      ) {
        return Date.now() - started;
      }
      await sleep(intervalMs);
    }
    throw new Error('token not accepted within 1500 ms');
  }

  it('refetches at most once per second under an unknown-kid flood and keeps known keys', async () => {
    const unknown = Array.from({ length: 200 }, (_, index) =>
      issuer.mintAccessToken({ header: { kid: `unknown-${index}` } }),
    );
    const again = issuer.mintAccessToken({ header: { kid: 'unknown-again' } });
    await verifier.verify(issuer.mintAccessToken());
    await sleep(1100);
    const before = jwks.requests;
    const startedAt = Date.now();

    const flood = unknown.map((token) =>
      verifier.verify(token).then(
        () => 'accepted',
        () => 'refused',
      ),
    );
    const results = await Promise.all(flood);
    for (let round = 0; round < 20; round += 1) await verifier.verify(again).catch(() => undefined);
    const elapsedMs = Date.now() - startedAt;

    expect(new Set(results)).toEqual(new Set(['refused']));
    // one fetch, and one more per full second the flood lasted (a slow machine's)
    expect(jwks.requests - before).toBeGreaterThanOrEqual(1);
    expect(jwks.requests - before).toBeLessThanOrEqual(1 + Math.floor(elapsedMs / 1000));
    await expect(verifier.verify(issuer.mintAccessToken())).resolves.toEqual(
      expect.objectContaining({ subject: 'user-1' }),
    );
  });

  it('goes on verifying known-kid tokens while the JWKS server is down, with bounded retries', async () => {
    await jwks.stop();
    try {
      const fetchesBefore = verifier.jwksFetches;
      for (let round = 0; round < 50; round += 1) {
        await verifier
          .verify(issuer.mintAccessToken({ header: { kid: 'unknown-while-down' } }))
          .catch(() => undefined);
      }

      await expect(verifier.verify(issuer.mintAccessToken())).resolves.toEqual(
        expect.objectContaining({ subject: 'user-1' }),
      );
      expect(verifier.jwksFetches - fetchesBefore).toBeLessThanOrEqual(1);
    } finally {
      await jwks.start();
    }
  });

  it('accepts a rotated key within 1 s, with no restart', async () => {
    await sleep(1100);
    issuer.rotate();
    const token = issuer.mintAccessToken();
    const started = Date.now();

    const acceptedAfterMs = await msUntilAccepted(token, 50);

    expect(acceptedAfterMs).toBeLessThanOrEqual(1100);
    expect(Date.now() - started).toBeLessThanOrEqual(1100);
  });

  it('refetches the JWKS when auth.keys.rotated is announced', async () => {
    await sleep(1100);
    const before = jwks.requests;
    const kid = issuer.rotate();

    await nats.connection.publish(AuthSubjects.keysRotated, JSON.stringify({ kid }));
    const deadline = Date.now() + 1500;
    while (jwks.requests === before && Date.now() < deadline) await sleep(20);

    expect(jwks.requests).toBe(before + 1);
    await expect(verifier.verify(issuer.mintAccessToken())).resolves.toEqual(
      expect.objectContaining({ subject: 'user-1' }),
    );
    expect(jwks.requests).toBe(before + 1);
  });

  // CONTRACT: never more than one JWKS fetch a second, and a rotated key accepted from 1 s after the
  // rotation's answer: the event's fetch waits for the second after the unknown-kid fetch, no longer
  it('accepts a key announced on auth.keys.rotated right after an unknown-kid fetch within 1 s, one fetch a second', async () => {
    await sleep(1100);
    const unknownKidFetchAt = Date.now();
    await verifier
      .verify(issuer.mintAccessToken({ header: { kid: 'unknown-before-rotation' } }))
      .catch(() => undefined);
    const before = jwks.requests;
    const kid = issuer.rotate();
    const token = issuer.mintAccessToken();

    await nats.connection.publish(AuthSubjects.keysRotated, JSON.stringify({ kid }));
    await msUntilAccepted(token, 10);

    const acceptedAfterMs = Date.now() - unknownKidFetchAt;
    expect(acceptedAfterMs).toBeGreaterThanOrEqual(995);
    expect(acceptedAfterMs).toBeLessThanOrEqual(1250);
    expect(jwks.requests - before).toBe(1);
  });

  it('coalesces a burst of 50 rotation events into a few fetches', async () => {
    await sleep(1100);
    const before = jwks.requests;
    const kid = issuer.rotate();

    for (let event = 0; event < 50; event += 1) {
      nats.connection.publish(AuthSubjects.keysRotated, JSON.stringify({ kid }));
    }
    await nats.connection.flush();
    await sleep(500);

    expect(jwks.requests - before).toBeGreaterThanOrEqual(1);
    expect(jwks.requests - before).toBeLessThanOrEqual(3);
    await expect(verifier.verify(issuer.mintAccessToken())).resolves.toEqual(
      expect.objectContaining({ subject: 'user-1' }),
    );
  });

  it('keeps event-triggered fetches at least 1 s apart, and refetches after one already running', async () => {
    // past the floor of every event fetch the specs before may still have queued (one per second)
    await sleep(2100);
    const before = jwks.requests;

    const firstStarted = Date.now();
    const first = verifier.refreshKeys();
    await sleep(5);
    const second = verifier.refreshKeys();
    await Promise.all([first, second]);
    const afterTwo = jwks.requests - before;
    const secondDone = Date.now();
    const started = Date.now();
    await Promise.all(Array.from({ length: 20 }, () => verifier.refreshKeys()));

    expect(afterTwo).toBe(2);
    expect(secondDone - firstStarted).toBeGreaterThanOrEqual(995);
    expect(jwks.requests - before).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });
});

describe('RemoteKeySet event fetches', () => {
  const issuer = createTestIssuer();
  let jwks: JwksServer;

  beforeAll(async () => {
    jwks = await issuer.serveJwks();
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  afterAll(async () => {
    await jwks?.stop();
  });

  // CONTRACT: never more than one JWKS fetch a second. An event's fetch waits out the floor after
  // the last fetch; an unknown kid's fetch that begins as the floor ends (and is answered before the
  // event's timer runs, which may be late) already holds the announced key
  it('does not fetch again for an event when a fetch began after it, at the end of its wait', async () => {
    const keySet = new RemoteKeySet(new URL(jwks.url), 1000, () => undefined, 600_000);
    try {
      await keySet.refresh();
      jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'], now: Date.now() });
      const floorEndsAt = Date.now() + 1000;
      jest.setSystemTime(Date.now() + 200);
      const event = keySet.refreshNow();

      // the unknown kid's fetch, as the floor ends, answered before the event's timer runs
      jest.setSystemTime(floorEndsAt);
      await expect(keySet.refresh()).resolves.toBe(true);
      jest.advanceTimersByTime(1000);
      await event;

      expect(keySet.fetches).toBe(2);
    } finally {
      keySet.stop();
    }
  });

  it('fetches once more for an event heard while the fetch of an earlier one runs', async () => {
    // a JWKS server that holds its answers while asked to: the event's fetch is in flight as the next event comes
    const held: Array<() => void> = [];
    let isHolding = false;
    const server = createServer((_request, response) => {
      const answer = (): void => void response.end(JSON.stringify(issuer.jwks()));
      if (isHolding) held.push(answer);
      else answer();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const keySet = new RemoteKeySet(new URL(`http://127.0.0.1:${port}/jwks`), 1000, () => undefined, 600_000);
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    try {
      await keySet.refresh();
      jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'], now: Date.now() });
      jest.setSystemTime(Date.now() + 200);
      const events = keySet.refreshNow();
      isHolding = true;
      jest.advanceTimersByTime(800);
      while (held.length === 0) await turn();

      void keySet.refreshNow();
      isHolding = false;
      held.splice(0).forEach((answer) => answer());
      while (jest.getTimerCount() === 0) await turn();
      jest.advanceTimersByTime(1000);
      await events;

      expect(keySet.fetches).toBe(3);
    } finally {
      keySet.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('fetches for an event once the floor has passed, when no fetch began after it', async () => {
    const keySet = new RemoteKeySet(new URL(jwks.url), 1000, () => undefined, 600_000);
    try {
      await keySet.refresh();
      jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'], now: Date.now() });
      jest.setSystemTime(Date.now() + 200);
      const event = keySet.refreshNow();

      jest.advanceTimersByTime(799);
      const before = keySet.fetches;
      jest.advanceTimersByTime(1);
      await event;

      expect([before, keySet.fetches]).toEqual([1, 2]);
    } finally {
      keySet.stop();
    }
  });
});
