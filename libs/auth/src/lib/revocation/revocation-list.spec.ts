import { randomUUID } from 'node:crypto';

import { Test, type TestingModule } from '@nestjs/testing';

import { MAX_ACCESS_TOKEN_TTL_SECONDS, type RevocationEntry, revocationKey } from '@relay/contracts';
import { createTestIssuer, getFreePort, type JwksServer, msUntil, NatsTestClient } from '@relay/testing';

import { NATS_URL, type ProbeApp, startProbeApp } from '../../test-support/probe-app';
import { deleteBucket, putRevocations, uniqueBucketName } from '../../test-support/revocation-bucket';
import { AccessTokenVerifier } from '../access-token/access-token-verifier';
import { AuthModule } from '../auth.module';
import { RevocationList } from './revocation-list';

describe(RevocationList.name, () => {
  const issuer = createTestIssuer();
  let jwks: JwksServer;
  let nats: NatsTestClient;
  const buckets: string[] = [];
  const apps: ProbeApp[] = [];

  beforeAll(async () => {
    jwks = await issuer.serveJwks();
    nats = await NatsTestClient.connect(NATS_URL);
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const bucket of buckets) await deleteBucket(nats, bucket);
    await nats?.close();
    await jwks?.stop();
  });

  async function start(bucket: string): Promise<ProbeApp> {
    const prefix = `test.${randomUUID().slice(0, 8)}`;
    const app = await startProbeApp(
      {
        issuer: issuer.issuer,
        audience: 'orders',
        jwksUri: jwks.url,
        natsUrl: NATS_URL,
        serviceName: `revocation-${prefix}`,
        revocationBucket: bucket,
      },
      prefix,
    );
    apps.push(app);
    return app;
  }

  function freshBucket(): string {
    const bucket = uniqueBucketName();
    buckets.push(bucket);
    return bucket;
  }

  // AuthModule on a NATS port nobody listens on: JetStream, and so the bucket, is unreachable
  async function compileWithoutBus(serviceName: string, clock?: () => Date): Promise<TestingModule> {
    const deadPort = await getFreePort();
    return Test.createTestingModule({
      imports: [
        AuthModule.forRoot({
          issuer: issuer.issuer,
          audience: 'orders',
          jwksUri: jwks.url,
          natsUrl: `nats://127.0.0.1:${deadPort}`,
          serviceName,
          revocationBucket: freshBucket(),
          ...(clock === undefined ? {} : { clock }),
        }),
      ],
    }).compile();
  }

  async function verdicts(app: ProbeApp, token: string): Promise<[number, unknown]> {
    const headers = { authorization: `Bearer ${token}` };
    const http = await app.http('/probe', headers);
    const reply = await nats.request(`${app.prefix}.probe`, {}, { headers });
    return [http.status, reply.err ?? 'ok'];
  }

  it('creates the bucket with history 1 and a TTL of the longest token plus the largest clock tolerance, and reports synced', async () => {
    const bucket = freshBucket();
    const app = await start(bucket);

    const info = await (await nats.connection.jetstreamManager()).streams.info(`KV_${bucket}`);

    expect(app.app.get(RevocationList).isSynced()).toBe(true);
    expect(info.config.max_msgs_per_subject).toBe(1);
    expect(info.config.max_age).toBe((86_400 + 300) * 1e9);
  });

  it('refuses a token on HTTP and NATS within 1 s of its jti entry', async () => {
    const app = await start(freshBucket());
    const jti = randomUUID();
    const token = issuer.mintAccessToken({ claims: { jti } });
    expect(await verdicts(app, token)).toEqual([200, 'ok']);

    await putRevocations(nats, app.app.get(RevocationList)['bucket'], [
      { key: `jti.${jti}`, value: { kind: 'jti', id: jti, at: Math.floor(Date.now() / 1000) } },
    ]);
    await msUntil(async () => (await verdicts(app, token))[0] === 401, 1000);

    expect(await verdicts(app, token)).toEqual([401, { status: 401, message: expect.any(String) }]);
  });

  it('refuses a blocked subject’s earlier tokens but not later ones', async () => {
    const app = await start(freshBucket());
    const now = Math.floor(Date.now() / 1000);
    const before = issuer.mintAccessToken({ claims: { sub: 'u-blocked', iat: now - 5 } });
    const after = issuer.mintAccessToken({ claims: { sub: 'u-blocked', iat: now + 1 } });

    await nats.connection.publish('auth.revoked', JSON.stringify({ kind: 'sub', id: 'u-blocked', at: now }));
    await msUntil(async () => (await verdicts(app, before))[0] === 401, 1000);

    expect(await verdicts(app, after)).toEqual([200, 'ok']);
  });

  it('applies entries written before the service started', async () => {
    const bucket = freshBucket();
    await putRevocations(nats, bucket, [
      {
        key: 'sid.old-session',
        value: { kind: 'sid', id: 'old-session', at: Math.floor(Date.now() / 1000) },
      },
    ]);

    const app = await start(bucket);

    expect(await verdicts(app, issuer.mintAccessToken({ claims: { sid: 'old-session' } }))).toEqual([
      401,
      { status: 401, message: expect.any(String) },
    ]);
  });

  const refused = [401, { status: 401, message: expect.any(String) }];

  /**
   * A service following a bucket that holds two not-befores of one subject (100 s and 10 s ago),
   * written in `order`, and a token of that subject issued between them.
   */
  async function subjectBlockedTwice(order: 'older first' | 'newer first') {
    const bucket = freshBucket();
    const subject = `u-${randomUUID()}`;
    const now = Math.floor(Date.now() / 1000);
    const older: RevocationEntry = { kind: 'sub', id: subject, at: now - 100 };
    const newer: RevocationEntry = { kind: 'sub', id: subject, at: now - 10 };
    const written = order === 'older first' ? [older, newer] : [newer, older];
    await putRevocations(
      nats,
      bucket,
      written.map((value) => ({ key: revocationKey(value), value })),
    );
    const between = issuer.mintAccessToken({ claims: { sub: subject, iat: now - 50 } });
    const app = await start(bucket);
    const kv = await nats.connection.jetstream().views.kv(bucket);
    const notBefore = (): number | undefined => app.app.get(RevocationList).subjectNotBefore(subject);
    return { app, kv, subject, now, older, newer, between, notBefore };
  }

  it('keeps a subject’s latest not-before from the bucket, whichever key was written last; deleting an older one leaves it', async () => {
    // the newer first: a replica that published late wrote the older one after it
    const { app, kv, older, newer, between, notBefore } = await subjectBlockedTwice('newer first');
    expect(await verdicts(app, between)).toEqual(refused);

    await kv.delete(revocationKey(older));
    await nats.connection.flush();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await verdicts(app, between)).toEqual(refused);
    expect(notBefore()).toBe(newer.at);
  });

  it('leaves a subject’s earlier not-before standing when an operator deletes the newest', async () => {
    const { app, kv, subject, now, older, newer, between, notBefore } =
      await subjectBlockedTwice('older first');
    const beforeBoth = issuer.mintAccessToken({ claims: { sub: subject, iat: now - 200 } });
    expect(await verdicts(app, between)).toEqual(refused);

    await kv.delete(revocationKey(newer));
    await nats.connection.flush();
    await msUntil(() => notBefore() !== newer.at, 1000);

    expect(notBefore()).toBe(older.at);
    expect(await verdicts(app, beforeBoth)).toEqual(refused);
    expect(await verdicts(app, between)).toEqual([200, 'ok']);

    await kv.purge(revocationKey(older));
    await nats.connection.flush();
    await msUntil(() => notBefore() === undefined, 1000);
    expect(await verdicts(app, beforeBoth)).toEqual([200, 'ok']);
  });

  it('forgets the entries the bucket’s TTL has dropped every 10 minutes, without waiting for a replay', async () => {
    let clockOffsetMs = 0;
    const moduleRef = await compileWithoutBus('revocation-prune', () => new Date(Date.now() + clockOffsetMs));
    moduleRef.useLogger(false);
    const app = await moduleRef.init();
    try {
      const list = app.get(RevocationList);
      const now = Math.floor(Date.now() / 1000);
      // at the prune, 11 minutes on: one block older than the longest token plus the largest clock
      // tolerance, one only 100 s past the longest token (a verifier may still accept a token it covers)
      list.apply({ kind: 'sub', id: 'u-old', at: now - MAX_ACCESS_TOKEN_TTL_SECONDS + 60 });
      list.apply({ kind: 'sub', id: 'u-edge', at: now + 11 * 60 - MAX_ACCESS_TOKEN_TTL_SECONDS - 100 });
      list.apply({ kind: 'sub', id: 'u-fresh', at: now });

      clockOffsetMs = 11 * 60 * 1000;
      list.apply({ kind: 'jti', id: randomUUID(), at: now + 11 * 60 });

      expect(list.subjectNotBefore('u-old')).toBeUndefined();
      expect(list.subjectNotBefore('u-edge')).toBe(now + 11 * 60 - MAX_ACCESS_TOKEN_TTL_SECONDS - 100);
      expect(list.subjectNotBefore('u-fresh')).toBe(now);
    } finally {
      await app.close();
    }
  });

  it('warns once while the bucket is unreachable, and logs an error once it has been for 30 s', async () => {
    let clockOffsetMs = 0;
    const lines: Array<{ level: string; message: string }> = [];
    // Nest passes the context last (after the stack for errors)
    const record =
      (level: string) =>
      (message: unknown, ...rest: unknown[]) => {
        if (rest.at(-1) === RevocationList.name) lines.push({ level, message: String(message) });
      };
    const moduleRef = await compileWithoutBus('revocation-late', () => new Date(Date.now() + clockOffsetMs));
    moduleRef.useLogger({ log: record('log'), warn: record('warn'), error: record('error') });
    const app = await moduleRef.init();
    try {
      await msUntil(() => lines.length > 0, 5000);
      // retries fail every 250 ms or so meanwhile, unlogged
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(lines).toEqual([{ level: 'warn', message: expect.stringContaining('not synced') }]);

      clockOffsetMs = 30_000;
      await msUntil(() => lines.length > 1, 5000);

      expect(lines).toEqual([
        { level: 'warn', message: expect.stringContaining('not synced') },
        { level: 'error', message: expect.stringContaining('still not synced after 30 s') },
      ]);
      expect(app.get(RevocationList).isSynced()).toBe(false);
    } finally {
      await app.close();
    }
  });

  it('reports not synced and refuses every token when JetStream is unreachable', async () => {
    const moduleRef = await compileWithoutBus('revocation-down');
    moduleRef.useLogger(false);
    const app = await moduleRef.init();
    try {
      await expect(app.get(AccessTokenVerifier).verify(issuer.mintAccessToken())).rejects.toEqual(
        expect.objectContaining({ code: 'revocation_unavailable', status: 503 }),
      );
      expect(app.get(RevocationList).isSynced()).toBe(false);
    } finally {
      await app.close();
    }
  });
});
