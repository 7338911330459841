import { randomBytes, randomUUID } from 'node:crypto';

import { Controller, Get, Module, Param } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';

import { AuthModule, natsMicroserviceOptions, RelayNatsClient } from '@relay/auth';
import { AuthSubjects } from '@relay/contracts';
import { createTestIssuer, type JwksServer, NatsTestClient, type TestIssuer } from '@relay/testing';

import { MetricsModule } from './metrics.module';
import { recordOrderSettled } from './order-metrics';

const NATS_URL = process.env['RELAY_TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';
const SERVICE = 'metrics-spec';
// hex, not a UUID: the subjects appear in the metrics, and no UUID may
const PREFIX = `metricsspec${randomBytes(4).toString('hex')}`;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

@Controller('items')
class ItemsController {
  constructor(private readonly nats: RelayNatsClient) {}

  @Get(':id')
  item(@Param('id') id: string): { id: string } {
    return { id };
  }

  @Get(':id/remote')
  remote(@Param('id') id: string): Promise<{ id: string }> {
    return this.nats.send<{ id: string }>(`${PREFIX}.item`, { id });
  }
}

@Controller()
class ItemsRpcController {
  @MessagePattern(`${PREFIX}.item`)
  item(data: { id: string }): { id: string } {
    return data;
  }
}

@Module({ controllers: [ItemsController, ItemsRpcController] })
class ItemsModule {}

/** One sample of the scraped text: the value of `name` whose labels include `labels` (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const found = new Map(
      [...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(([, key, value]) => [key, value]),
    );
    if (Object.entries(labels).every(([key, value]) => found.get(key) === value)) return Number(match[3]);
  }
  return 0;
}

describe(MetricsModule.name, () => {
  let app: NestFastifyApplication;
  let jwks: JwksServer;
  let issuer: TestIssuer;
  let nats: NatsTestClient;

  const scrape = async (): Promise<string> => (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const getItem = (path: string, token?: string): Promise<number> =>
    app
      .inject({
        method: 'GET',
        url: path,
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      })
      .then((reply) => reply.statusCode);
  const requestItem = (token: string): Promise<unknown> =>
    nats
      .request(`${PREFIX}.item`, { id: 'x' }, { headers: { authorization: `Bearer ${token}` } })
      .then((reply) => reply.err ?? reply.response);

  beforeAll(async () => {
    issuer = createTestIssuer();
    jwks = await issuer.serveJwks();
    const moduleRef = await Test.createTestingModule({
      imports: [
        AuthModule.forRoot({
          issuer: issuer.issuer,
          audience: 'orders',
          jwksUri: jwks.url,
          natsUrl: NATS_URL,
          serviceName: PREFIX,
        }),
        MetricsModule.forRoot({ service: SERVICE }),
        ItemsModule,
      ],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    app.connectMicroservice(natsMicroserviceOptions({ url: NATS_URL, name: PREFIX }), {
      inheritAppConfig: true,
    });
    await app.init();
    await app.startAllMicroservices();
    await app.getHttpAdapter().getInstance().ready();
    nats = await NatsTestClient.connect(NATS_URL);
  });

  afterAll(async () => {
    await nats.close();
    await app.close();
    await jwks.stop();
  });

  it('answers GET /metrics without a token in Prometheus text format, labelled with the service', async () => {
    const reply = await app.inject({ method: 'GET', url: '/metrics' });

    expect(reply.statusCode).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(reply.body).toContain('# TYPE relay_token_verifications_total counter');
    expect(reply.body).toContain('# TYPE relay_http_server_duration_seconds histogram');
    expect(sample(reply.body, 'process_cpu_user_seconds_total', { service: SERVICE })).toBeGreaterThan(0);
    expect(sample(reply.body, 'nodejs_eventloop_lag_seconds', { service: SERVICE })).toBeGreaterThanOrEqual(
      0,
    );
  });

  it('counts accepted and refused tokens over HTTP, a cache hit and the JWKS fetch, by route template', async () => {
    const before = await scrape();
    const token = issuer.mintAccessToken();

    // the verifier caches a token accepted twice: the third call is a hit
    const statuses = [
      await getItem('/items/1', token),
      await getItem('/items/2', token),
      await getItem('/items/3', token),
    ];
    const refused = await getItem('/items/4', 'not-a-token');
    const after = await scrape();

    expect(statuses).toEqual([200, 200, 200]);
    expect(refused).toBe(401);
    const delta = (name: string, labels: Record<string, string>): number =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(delta('relay_token_verifications_total', { transport: 'http', result: 'accepted' })).toBe(3);
    expect(delta('relay_token_verifications_total', { transport: 'http', result: 'refused' })).toBe(1);
    expect(delta('relay_token_cache_hits_total', { transport: 'http' })).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'relay_jwks_fetches_total', { result: 'success' })).toBeGreaterThanOrEqual(1);
    expect(
      delta('relay_http_server_duration_seconds_count', {
        method: 'GET',
        route: '/items/:id',
        status: '200',
      }),
    ).toBe(3);
    expect(delta('relay_http_server_duration_seconds_count', { route: '/items/:id', status: '401' })).toBe(1);
  });

  it('counts accepted and refused tokens over NATS, by subject', async () => {
    const before = await scrape();

    const answers = [await requestItem(issuer.mintAccessToken()), await requestItem('not-a-token')];
    const after = await scrape();

    expect(answers).toEqual([{ id: 'x' }, expect.objectContaining({ status: 401 })]);
    const delta = (name: string, labels: Record<string, string>): number =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(delta('relay_token_verifications_total', { transport: 'nats', result: 'accepted' })).toBe(1);
    expect(delta('relay_token_verifications_total', { transport: 'nats', result: 'refused' })).toBe(1);
    expect(
      delta('relay_nats_server_duration_seconds_count', { subject: `${PREFIX}.item`, status: '200' }),
    ).toBe(1);
    expect(
      delta('relay_nats_server_duration_seconds_count', { subject: `${PREFIX}.item`, status: '401' }),
    ).toBe(1);
  });

  it('times an outgoing NATS request by subject', async () => {
    const before = await scrape();

    const status = await getItem('/items/5/remote', issuer.mintAccessToken());
    const after = await scrape();

    expect(status).toBe(200);
    const labels = { subject: `${PREFIX}.item`, status: '200' };
    expect(
      sample(after, 'relay_nats_client_duration_seconds_count', labels) -
        sample(before, 'relay_nats_client_duration_seconds_count', labels),
    ).toBe(1);
    expect(sample(after, 'relay_nats_client_duration_seconds_sum', labels)).toBeGreaterThan(0);
  });

  it('reports the revocation feed in sync and the lag of a live revocation', async () => {
    const before = await scrape();

    // a random jti: nothing anyone holds is revoked
    const entry = { kind: 'jti', id: randomUUID(), at: Math.floor(Date.now() / 1000) };
    nats.connection.publish(AuthSubjects.revoked, new TextEncoder().encode(JSON.stringify(entry)));
    await nats.connection.flush();
    let after = await scrape();
    for (
      let attempt = 0;
      attempt < 50 && sample(after, 'relay_revocation_feed_lag_seconds_count') === 0;
      attempt++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = await scrape();
    }

    expect(sample(after, 'relay_revocation_feed_synced', { service: SERVICE })).toBe(1);
    expect(
      sample(after, 'relay_revocation_feed_lag_seconds_count') -
        sample(before, 'relay_revocation_feed_lag_seconds_count'),
    ).toBeGreaterThanOrEqual(1);
    expect(after).not.toContain(entry.id);
  });

  it('counts orders by final status', async () => {
    const before = await scrape();

    recordOrderSettled('confirmed');
    recordOrderSettled('failed');
    const after = await scrape();

    expect(sample(after, 'relay_orders_settled_total', { status: 'confirmed' })).toBe(
      sample(before, 'relay_orders_settled_total', { status: 'confirmed' }) + 1,
    );
    expect(sample(after, 'relay_orders_settled_total', { status: 'failed' })).toBe(
      sample(before, 'relay_orders_settled_total', { status: 'failed' }) + 1,
    );
  });

  it('never shows a token, a subject, a token id or any other id', async () => {
    const token = issuer.mintAccessToken();
    const id = randomUUID();
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<
      string,
      string
    >;
    await getItem(`/items/${id}`, token);
    await getItem(`/items/${id}`, token);
    await getItem(`/items/${id}/remote`, token);

    const body = await scrape();

    expect(body).not.toContain(token);
    expect(body).not.toContain(token.split('.')[2]);
    expect(body).not.toContain(id);
    expect(body).not.toContain(claims['sub']);
    expect(body).not.toContain(claims['jti']);
    expect(body).not.toContain('@');
    expect(body).not.toMatch(UUID);
  });
});
