import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { Controller, Get, type INestApplication, Logger, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { MessagePattern } from '@nestjs/microservices';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';

import { createTestIssuer, type JwksServer, NatsTestClient } from '@relay/testing';

import { HTTP_ADAPTERS, type HttpAdapterName } from '../test-support/http-adapters';
import { NATS_URL } from '../test-support/probe-app';
import {
  AuthModule,
  CurrentPrincipal,
  natsMicroserviceOptions,
  type Principal,
  relayFastifyOptions,
} from '../index';

const SUBJECT = `readme.${Date.now().toString(36)}.whoami`;

interface AppConfig {
  AUTH_ISSUER: string;
  AUTH_JWKS_URI: string;
  NATS_URL: string;
  PORT: number;
}

@Controller('whoami')
class WhoAmIController {
  @Get()
  whoAmI(@CurrentPrincipal() principal: Principal): { subject: string } {
    return { subject: principal.subject };
  }
}

@Controller()
class WhoAmIRpcController {
  @MessagePattern(SUBJECT)
  whoAmI(@CurrentPrincipal() principal: Principal): { subject: string } {
    return { subject: principal.subject };
  }
}

// what the app's config would hold; set before each app starts
let config: AppConfig;

@Module({
  // the next two lines are copied literally from libs/auth/README.md, "Secure a new Nest app" (app.module.ts)
  imports: [AuthModule.forRootAsync({ inject: [ConfigService], useFactory: (c: ConfigService<AppConfig, true>) => ({
    issuer: c.get('AUTH_ISSUER'), audience: 'inventory', jwksUri: c.get('AUTH_JWKS_URI'), natsUrl: c.get('NATS_URL'), serviceName: 'inventory' }) })],
  controllers: [WhoAmIController, WhoAmIRpcController],
})
class InventoryModule {}

// the app's root module: its config, and the README's lines; no guard, no filter
@Module({
  imports: [ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => config] }), InventoryModule],
})
class AppModule {}

/** main.ts of the README, on `adapter`. */
async function bootstrap(adapter: HttpAdapterName): Promise<INestApplication> {
  if (adapter === 'fastify') {
    // copied literally from the README (main.ts, Fastify)
    const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter({ ...relayFastifyOptions() }));
    return start(app);
  }
  // copied literally from the README (main.ts, Express)
  const app = await NestFactory.create(AppModule);
  return start(app);
}

async function start(app: INestApplication): Promise<INestApplication> {
  // the next two lines are copied literally from the README (main.ts)
  app.connectMicroservice(natsMicroserviceOptions({ url: config.NATS_URL, name: 'inventory' }), { inheritAppConfig: true });
  await app.init(); await app.startAllMicroservices(); await app.listen(config.PORT, '0.0.0.0');
  return app;
}

it('README "Secure a new Nest app" is still what the spec below runs', () => {
  const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
  const source = readFileSync(__filename, 'utf8');
  const snippet = /## Secure a new Nest app\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  const copied = snippet.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('//'));

  expect(copied.length).toBeGreaterThanOrEqual(6);
  for (const line of copied) expect(source).toContain(line.trim());
});

describe.each(HTTP_ADAPTERS)('README "Secure a new Nest app" on %s', (adapter) => {
  const issuer = createTestIssuer();
  let jwks: JwksServer;
  let nats: NatsTestClient;
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    jwks = await issuer.serveJwks();
    nats = await NatsTestClient.connect(NATS_URL);
    config = { AUTH_ISSUER: issuer.issuer, AUTH_JWKS_URI: jwks.url, NATS_URL, PORT: 0 };
    Logger.overrideLogger(false);
    app = await bootstrap(adapter);
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await nats?.close();
    await jwks?.stop();
  });

  it('refuses HTTP and NATS calls without a token with 401', async () => {
    const http = await fetch(`${baseUrl}/whoami`);
    const reply = await nats.request(SUBJECT, {});

    expect(http.status).toBe(401);
    expect(http.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(reply.err).toEqual({ status: 401, message: expect.any(String) });
  });

  it('answers HTTP and NATS calls with a valid token', async () => {
    const headers = { authorization: `Bearer ${issuer.mintAccessToken({ claims: { sub: 'readme-user' } })}` };

    const http = await fetch(`${baseUrl}/whoami`, { headers });
    const reply = await nats.request<{ subject: string }>(SUBJECT, {}, { headers });

    expect(http.status).toBe(200);
    expect(await http.json()).toEqual({ subject: 'readme-user' });
    expect(reply.response).toEqual({ subject: 'readme-user' });
  });
});
