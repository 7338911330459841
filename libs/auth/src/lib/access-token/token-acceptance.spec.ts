import { randomUUID } from 'node:crypto';

import { createTestIssuer, type JwksServer, NatsTestClient, serveJwks } from '@relay/testing';

import { NATS_URL, type ProbeApp, startProbeApp } from '../../test-support/probe-app';
import { deleteBucket, putRevocations, uniqueBucketName } from '../../test-support/revocation-bucket';
import { buildTokenCases, revocationFixtures, type TokenCase } from '../../test-support/token-cases';

const NOW = Math.floor(Date.now() / 1000);

// cache on: a token is cached on its second acceptance (the NATS leg), so the repeated HTTP leg is
// served from the verified-token cache; cache off: every leg is verified in full. The verdicts must not differ.
describe.each([
  { cache: 'on', verifiedTokenCacheSize: 10_000 },
  { cache: 'off', verifiedTokenCacheSize: 0 },
])('access-token acceptance (HTTP and NATS, verified-token cache $cache)', ({ verifiedTokenCacheSize }) => {
  let issuerServer: JwksServer;
  let attackerServer: JwksServer;
  let probe: ProbeApp;
  let nats: NatsTestClient;
  const issuer = createTestIssuer();
  const cases: TokenCase[] = buildTokenCases(issuer, NOW, () => attackerServer.url);
  const bucket = uniqueBucketName();
  const prefix = `test.${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    issuerServer = await issuer.serveJwks();
    attackerServer = await serveJwks(() => ({ keys: [] }));
    nats = await NatsTestClient.connect(NATS_URL);
    await putRevocations(nats, bucket, revocationFixtures(NOW));
    probe = await startProbeApp(
      {
        issuer: issuer.issuer,
        audience: 'orders',
        jwksUri: issuerServer.url,
        natsUrl: NATS_URL,
        serviceName: `acceptance-${prefix}`,
        revocationBucket: bucket,
        clock: () => new Date(NOW * 1000),
        verifiedTokenCacheSize,
      },
      prefix,
    );
  });

  afterAll(async () => {
    await probe?.close();
    await deleteBucket(nats, bucket);
    await nats?.close();
    await issuerServer?.stop();
    await attackerServer?.stop();
  });

  it.each(cases)('gives the same verdict over HTTP and NATS when the token $reason', async (row) => {
    const authorization = row.authorization();
    const headers: Record<string, string> = authorization === undefined ? {} : { authorization };

    const http = await probe.http('/probe', headers);
    const reply = await nats.request<{ subject?: string }>(`${prefix}.probe`, { probe: true }, { headers });
    const again = await probe.http('/probe', headers);

    const verdicts = { reason: row.reason, http: http.status, nats: reply.err ?? reply.response?.subject };
    const outcome = (response: typeof http): unknown =>
      response.status === 200 ? (JSON.parse(response.body) as { subject?: string }).subject : response.body;
    expect({ reason: row.reason, status: again.status, outcome: outcome(again) }).toEqual({
      reason: row.reason,
      status: http.status,
      outcome: outcome(http),
    });
    if (row.verdict === 'accept') {
      expect(verdicts).toEqual({ reason: row.reason, http: 200, nats: row.subject });
      expect((JSON.parse(http.body) as { subject?: string }).subject).toBe(row.subject);
    } else {
      expect(verdicts).toEqual({
        reason: row.reason,
        http: 401,
        nats: { status: 401, message: expect.any(String) },
      });
      const challenge = authorization === undefined ? 'Bearer' : 'Bearer error="invalid_token"';
      expect(http.headers['www-authenticate']).toBe(challenge);
      expect(JSON.parse(http.body)).toEqual({
        statusCode: 401,
        error: 'Unauthorized',
        message: expect.any(String),
      });
      const token = authorization?.replace(/^\S+ /, '') ?? '';
      if (token.length > 8) expect(http.body + JSON.stringify(reply)).not.toContain(token);
    }
  });

  it('never fetches a key from a token-named URL', () => {
    expect(attackerServer.requests).toBe(0);
  });
});
