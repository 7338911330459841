import { randomUUID } from 'node:crypto';

import { createTestIssuer, type JwksServer, NatsTestClient, serveJwks } from '@relay/testing';

import { HTTP_ADAPTERS, type HttpAdapterName, type HttpAnswer } from '../../test-support/http-adapters';
import { NATS_URL, type ProbeApp, startProbeApp } from '../../test-support/probe-app';
import { deleteBucket, putRevocations, uniqueBucketName } from '../../test-support/revocation-bucket';
import { buildTokenCases, revocationFixtures, type TokenCase } from '../../test-support/token-cases';

const NOW = Math.floor(Date.now() / 1000);

// A token enters the verified-token cache on its second acceptance, so with the cache on the third
// call of a row is served from it, and the NATS leg (same app as the Fastify leg, which ran first) is
// served from what HTTP cached; with the cache off every call is verified in full. The verdicts must
// not differ. HTTP runs on each of Nest's adapters (one app each); NATS does not depend on the adapter
// and runs once, against the Fastify app's microservice.
describe.each([
  { cache: 'on', verifiedTokenCacheSize: 10_000 },
  { cache: 'off', verifiedTokenCacheSize: 0 },
])('access-token acceptance (verified-token cache $cache)', ({ verifiedTokenCacheSize }) => {
  let issuerServer: JwksServer;
  let attackerServer: JwksServer;
  const probes = {} as Record<HttpAdapterName, ProbeApp>;
  let nats: NatsTestClient;
  const issuer = createTestIssuer();
  const cases: TokenCase[] = buildTokenCases(issuer, NOW, () => attackerServer.url);
  const bucket = uniqueBucketName();

  beforeAll(async () => {
    issuerServer = await issuer.serveJwks();
    attackerServer = await serveJwks(() => ({ keys: [] }));
    nats = await NatsTestClient.connect(NATS_URL);
    await putRevocations(nats, bucket, revocationFixtures(NOW));
    for (const adapter of HTTP_ADAPTERS) {
      const prefix = `test.${randomUUID().slice(0, 8)}`;
      probes[adapter] = await startProbeApp(
        {
          issuer: issuer.issuer,
          audience: 'orders',
          jwksUri: issuerServer.url,
          natsUrl: NATS_URL,
          serviceName: `acceptance-${adapter}-${prefix}`,
          revocationBucket: bucket,
          clock: () => new Date(NOW * 1000),
          verifiedTokenCacheSize,
        },
        prefix,
        { adapter },
      );
    }
  });

  afterAll(async () => {
    for (const adapter of HTTP_ADAPTERS) await probes[adapter]?.close();
    await deleteBucket(nats, bucket);
    await nats?.close();
    await issuerServer?.stop();
    await attackerServer?.stop();
  });

  const headersOf = (row: TokenCase): Record<string, string> => {
    const authorization = row.authorization();
    return authorization === undefined ? {} : { authorization };
  };

  describe.each(HTTP_ADAPTERS)('over HTTP on %s', (adapter) => {
    it.each(cases)('gives the table’s verdict when the token $reason', async (row) => {
      const headers = headersOf(row);

      const answers: HttpAnswer[] = [];
      for (let call = 0; call < 3; call++) answers.push(await probes[adapter].http('/probe', headers));

      const outcome = ({ status, body }: HttpAnswer): unknown => ({
        reason: row.reason,
        status,
        outcome: status === 200 ? (JSON.parse(body) as { subject?: string }).subject : body,
      });
      expect(answers.slice(1).map(outcome)).toEqual([outcome(answers[0]), outcome(answers[0])]);
      const [http] = answers;
      if (row.verdict === 'accept') {
        expect({ reason: row.reason, status: http.status }).toEqual({ reason: row.reason, status: 200 });
        expect((JSON.parse(http.body) as { subject?: string }).subject).toBe(row.subject);
      } else {
        expect({ reason: row.reason, status: http.status }).toEqual({ reason: row.reason, status: 401 });
        // one challenge for every 401 (CONTRACT), a request without credentials too
        expect(http.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
        expect(JSON.parse(http.body)).toEqual({
          statusCode: 401,
          error: 'Unauthorized',
          message: expect.any(String),
        });
        const token = headers.authorization?.replace(/^\S+ /, '') ?? '';
        if (token.length > 8) expect(http.body).not.toContain(token);
      }
    });
  });

  describe('over NATS', () => {
    it.each(cases)('gives the table’s verdict when the token $reason', async (row) => {
      const headers = headersOf(row);
      const subject = `${probes.fastify.prefix}.probe`;

      const replies = [];
      for (let call = 0; call < 3; call++) {
        const reply = await nats.request<{ subject?: string }>(subject, { probe: true }, { headers });
        replies.push({ reason: row.reason, verdict: reply.err ?? reply.response?.subject });
      }

      const expected =
        row.verdict === 'accept' ? row.subject : { status: 401, message: expect.any(String) as unknown };
      expect(replies).toEqual(Array.from({ length: 3 }, () => ({ reason: row.reason, verdict: expected })));
      const token = headers.authorization?.replace(/^\S+ /, '') ?? '';
      if (row.verdict === 'refuse' && token.length > 8) expect(JSON.stringify(replies)).not.toContain(token);
    });
  });

  it('never fetches a key from a token-named URL', () => {
    expect(attackerServer.requests).toBe(0);
  });
});
