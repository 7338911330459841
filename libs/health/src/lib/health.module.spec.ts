import { Controller, Get, Module, type ModuleMetadata } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { AuthModule } from '@relay/auth';
import { DatabaseModule } from '@relay/database';
import { createTestIssuer, type JwksServer } from '@relay/testing';

import { HealthModule } from './health.module';
import { Readiness } from './readiness';

const NATS_URL = process.env['RELAY_TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';

@Controller('private')
class PrivateController {
  @Get()
  secret(): string {
    return 'secret';
  }
}

@Module({ controllers: [PrivateController] })
class PrivateModule {}

/** A Fastify app of `imports`, initialised and ready for `inject`. */
async function startApp(imports: ModuleMetadata['imports']): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule({ imports }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter());
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

describe(HealthModule.name, () => {
  let app: NestFastifyApplication;
  let jwks: JwksServer;

  beforeAll(async () => {
    const issuer = createTestIssuer();
    jwks = await issuer.serveJwks();
    app = await startApp([
      DatabaseModule.forRootAsync({ useFactory: () => ({ migrations: [] }) }),
      AuthModule.forRoot({
        issuer: issuer.issuer,
        audience: 'orders',
        jwksUri: jwks.url,
        natsUrl: NATS_URL,
        serviceName: 'health-spec',
      }),
      HealthModule.forRoot(),
      PrivateModule,
    ]);
  });

  afterAll(async () => {
    await app.close();
    await jwks.stop();
  });

  it.each(['/health', '/health/ready'])(
    'answers %s 200 without a token when the database, NATS and the revocation feed are up',
    async (url) => {
      const reply = await app.inject({ method: 'GET', url });

      expect(reply.statusCode).toBe(200);
      expect(reply.json()).toEqual({
        status: 'ok',
        checks: { database: 'up', nats: 'up', revocations: 'up' },
      });
    },
  );

  it('answers /health/live 200 without a token', async () => {
    const reply = await app.inject({ method: 'GET', url: '/health/live' });

    expect(reply.statusCode).toBe(200);
    expect(reply.json()).toEqual({ status: 'ok' });
  });

  it('leaves every other route guarded', async () => {
    const reply = await app.inject({ method: 'GET', url: '/private' });

    expect(reply.statusCode).toBe(401);
  });
});

describe(`${HealthModule.name} without NATS`, () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    const issuer = createTestIssuer();
    app = await startApp([
      DatabaseModule.forRootAsync({ useFactory: () => ({ migrations: [] }) }),
      AuthModule.forRoot({
        issuer: issuer.issuer,
        audience: 'orders',
        // nothing listens on port 1: the bus is down
        natsUrl: 'nats://127.0.0.1:1',
        serviceName: 'health-spec-down',
      }),
      HealthModule.forRoot(),
    ]);
  });

  afterAll(async () => {
    await app.close();
  });

  it.each(['/health', '/health/ready'])(
    'answers %s 503 and names NATS and the revocation feed as down',
    async (url) => {
      const reply = await app.inject({ method: 'GET', url });

      expect(reply.statusCode).toBe(503);
      expect(reply.json()).toEqual({
        status: 'unavailable',
        checks: { database: 'up', nats: 'down', revocations: 'down' },
      });
    },
  );

  it('stays live: /health/live answers 200 while NATS is down (a restart would not bring it back)', async () => {
    const reply = await app.inject({ method: 'GET', url: '/health/live' });

    expect(reply.statusCode).toBe(200);
  });
});

describe(`${HealthModule.name} once shutdown has begun`, () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApp([
      HealthModule.forRootAsync({
        useFactory: () => [{ name: 'database', check: () => Promise.resolve() }],
      }),
    ]);
  });

  afterAll(async () => {
    await app.close();
  });

  it('turns /health/ready to 503 with draining: true while every check is still up', async () => {
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);

    app.get(Readiness).drain();
    const reply = await app.inject({ method: 'GET', url: '/health/ready' });

    expect(reply.statusCode).toBe(503);
    expect(reply.json()).toEqual({ status: 'unavailable', checks: { database: 'up' }, draining: true });
  });

  it('stays live while draining: /health/live answers 200', async () => {
    app.get(Readiness).drain();
    const reply = await app.inject({ method: 'GET', url: '/health/live' });

    expect(reply.statusCode).toBe(200);
    expect(reply.json()).toEqual({ status: 'ok' });
  });
});
