import { createHash, randomUUID } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { request } from 'node:http';

import { Controller, Get, Module } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

import { createTestIssuer, type JwksServer } from '@relay/testing';

import { AuthModule } from '../auth.module';
import { CALL_FINISHED_CHANNEL, type FinishedCall } from '../call-context/call-context';
import { Public } from '../decorators/public.decorator';
import { NATS_URL, type ProbeApp, startProbeApp } from '../../test-support/probe-app';
import { uniqueBucketName } from '../../test-support/revocation-bucket';

// An app with an OpenTelemetry SDK: the spans @relay/auth records, read back from memory
describe('@relay/auth spans with an OpenTelemetry SDK', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  const issuer = createTestIssuer();
  const prefix = `telemetry.${randomUUID().slice(0, 8)}`;
  let jwks: JwksServer;
  let probe: ProbeApp;

  beforeAll(async () => {
    trace.setGlobalTracerProvider(provider);
    context.setGlobalContextManager(contextManager);
    jwks = await issuer.serveJwks();
    probe = await startProbeApp(
      {
        issuer: issuer.issuer,
        audience: 'orders',
        jwksUri: jwks.url,
        natsUrl: NATS_URL,
        serviceName: `telemetry-${prefix}`,
        revocationBucket: uniqueBucketName(),
      },
      prefix,
    );
  });

  afterAll(async () => {
    await probe?.close();
    await jwks?.stop();
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  beforeEach(() => exporter.reset());

  function verification(): Record<string, unknown> {
    const span = exporter.getFinishedSpans().find((finished) => finished.name === 'relay.verify_token');
    if (span === undefined) throw new Error('no relay.verify_token span');
    return span.attributes;
  }

  it('names an accepted token by fingerprint, key id and subject, never by itself', async () => {
    const token = issuer.mintAccessToken({ claims: { sub: 'user-1', roles: ['customer'] } });

    expect((await probe.http('/probe', { authorization: `Bearer ${token}` })).status).toBe(200);

    const attributes = verification();
    expect(attributes).toMatchObject({
      'enduser.id': 'user-1',
      'relay.token.kid': issuer.kid,
      'relay.token.verdict': 'accepted',
      'relay.token.fingerprint': createHash('sha256').update(token).digest('hex').slice(0, 16),
      'relay.transport': 'http',
    });
    expect(JSON.stringify(exporter.getFinishedSpans().map((span) => span.attributes))).not.toContain(token);
  });

  it('names each token by its own fingerprint and key id on cache hits too', async () => {
    const first = issuer.mintAccessToken({ claims: { sub: 'user-2', roles: ['customer'] } });
    const second = issuer.mintAccessToken({ claims: { sub: 'user-3', roles: ['customer'] } });
    const fingerprint = (token: string): string =>
      createHash('sha256').update(token).digest('hex').slice(0, 16);

    // a token is cached on its second acceptance: the third is answered from the cache
    for (const token of [first, first, first, second]) {
      expect((await probe.http('/probe', { authorization: `Bearer ${token}` })).status).toBe(200);
    }

    const seen = exporter
      .getFinishedSpans()
      .filter((span) => span.name === 'relay.verify_token')
      .map(({ attributes }) => [
        attributes['enduser.id'],
        attributes['relay.token.fingerprint'],
        attributes['relay.token.kid'],
        attributes['relay.token.cache_hit'],
      ]);
    expect(seen).toEqual([
      ['user-2', fingerprint(first), issuer.kid, false],
      ['user-2', fingerprint(first), issuer.kid, false],
      ['user-2', fingerprint(first), issuer.kid, true],
      ['user-3', fingerprint(second), issuer.kid, false],
    ]);
  });

  it('fingerprints a refused compact token, but nothing of a credential that is not one', async () => {
    const forged = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln';
    expect((await probe.http('/probe', { authorization: `Bearer ${forged}` })).status).toBe(401);
    expect(verification()).toMatchObject({ 'relay.token.verdict': 'refused' });
    expect(verification()['relay.token.fingerprint']).toBe(
      createHash('sha256').update(forged).digest('hex').slice(0, 16),
    );

    exporter.reset();
    expect((await probe.http('/probe', { authorization: 'Basic b3JkZXJzOnMzY3JldA==' })).status).toBe(401);
    expect(verification()['relay.token.verdict']).toBe('refused');
    expect(verification()['relay.token.fingerprint']).toBeUndefined();
    expect(verification()['relay.token.kid']).toBeUndefined();
  });
});

describe('an HTTP request its client abandons', () => {
  @Controller('slow')
  class SlowController {
    @Public()
    @Get()
    async slow(): Promise<string> {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return 'late';
    }
  }

  @Module({ controllers: [SlowController] })
  class SlowModule {}

  it('ends its call once, as 499', async () => {
    const issuer = createTestIssuer();
    const jwks = await issuer.serveJwks();
    const moduleRef = await Test.createTestingModule({
      imports: [
        AuthModule.forRoot({
          issuer: issuer.issuer,
          audience: 'orders',
          jwksUri: jwks.url,
          natsUrl: NATS_URL,
          serviceName: `abandoned-${randomUUID().slice(0, 8)}`,
          revocationBucket: uniqueBucketName(),
        }),
        SlowModule,
      ],
    }).compile();
    const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
      logger: false,
    });
    const finished: FinishedCall[] = [];
    const record = (message: unknown): void => {
      finished.push(message as FinishedCall);
    };
    subscribe(CALL_FINISHED_CHANNEL, record);
    try {
      await app.listen(0, '127.0.0.1');
      const { port } = app.getHttpServer().address() as { port: number };
      const abandoned = request({ host: '127.0.0.1', port, path: '/slow' });
      abandoned.on('error', () => undefined);
      abandoned.end();
      await new Promise((resolve) => setTimeout(resolve, 100));
      abandoned.destroy();
      await new Promise((resolve) => setTimeout(resolve, 600));

      expect(finished.filter((call) => call.name === 'GET /slow')).toEqual([
        expect.objectContaining({ transport: 'http', status: 499 }),
      ]);
    } finally {
      unsubscribe(CALL_FINISHED_CHANNEL, record);
      await app.close();
      await jwks.stop();
    }
  });
});
