import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { Controller, Get, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { MessagePattern } from '@nestjs/microservices';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';

import { createTestIssuer, type JwksServer, NatsTestClient } from '@relay/testing';

import { NATS_URL } from '../test-support/probe-app';
import { authAppProviders, AuthModule, CurrentPrincipal, natsMicroserviceOptions, type Principal } from '../index';

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

@Module({
  // the next three lines are copied literally from libs/auth/README.md, "Secure a new Nest app" (app.module.ts)
  imports: [AuthModule.forRootAsync({ inject: [ConfigService], useFactory: (c: ConfigService<AppConfig, true>) => ({
    issuer: c.get('AUTH_ISSUER'), audience: 'inventory', jwksUri: c.get('AUTH_JWKS_URI'), natsUrl: c.get('NATS_URL'), serviceName: 'inventory' }) })],
  providers: [...authAppProviders()], // AccessTokenGuard (APP_GUARD: token, @Roles, @Scopes), TransportExceptionFilter (APP_FILTER)
  controllers: [WhoAmIController, WhoAmIRpcController],
})
class AppModule {}

describe('README "Secure a new Nest app"', () => {
  const issuer = createTestIssuer();
  let jwks: JwksServer;
  let nats: NatsTestClient;
  let app: NestFastifyApplication;
  let baseUrl: string;

  beforeAll(async () => {
    jwks = await issuer.serveJwks();
    nats = await NatsTestClient.connect(NATS_URL);
    const config: AppConfig = { AUTH_ISSUER: issuer.issuer, AUTH_JWKS_URI: jwks.url, NATS_URL, PORT: 0 };
    @Module({ imports: [ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => config] }), AppModule] })
    class RootModule {}
    app = await NestFactory.create<NestFastifyApplication>(RootModule, new FastifyAdapter(), { logger: false });
    // the next two lines are copied literally from libs/auth/README.md, "Secure a new Nest app" (main.ts)
    app.connectMicroservice(natsMicroserviceOptions({ url: config.NATS_URL, name: 'inventory' }), { inheritAppConfig: true });
    await app.init(); await app.startAllMicroservices(); await app.listen(config.PORT, '0.0.0.0');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await nats?.close();
    await jwks?.stop();
  });

  it('is still what the README shows', () => {
    const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    const source = readFileSync(__filename, 'utf8');
    const snippet = /## Secure a new Nest app\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const copied = snippet.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('//'));

    expect(copied.length).toBeGreaterThanOrEqual(5);
    for (const line of copied) expect(source).toContain(line.trim());
  });

  it('refuses HTTP and NATS calls without a token with 401', async () => {
    const http = await fetch(`${baseUrl}/whoami`);
    const reply = await nats.request(SUBJECT, {});

    expect(http.status).toBe(401);
    expect(http.headers.get('www-authenticate')).toBe('Bearer');
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
