import { randomUUID } from 'node:crypto';

import {
  Controller,
  type DynamicModule,
  Get,
  type INestApplication,
  Module,
  type Type,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, type ServerNats } from '@nestjs/microservices';
import type { NatsConnection } from 'nats';

import { createTestIssuer, type JwksServer, NatsTestClient } from '@relay/testing';

import {
  createHttpAdapter,
  HTTP_ADAPTERS,
  type HttpAdapterName,
  httpGet,
} from '../test-support/http-adapters';
import { NATS_URL } from '../test-support/probe-app';
import { deleteBucket, uniqueBucketName } from '../test-support/revocation-bucket';
import type { AuthModuleOptions } from './auth-module-options';
import { AuthModule } from './auth.module';
import { AccessTokenGuard } from './guards/access-token.guard';
import { natsMicroserviceOptions } from './nats/nats-microservice-options';

/** How an app imports `AuthModule`: every way but the opt-out must leave it guarded. */
interface Wiring {
  name: string;
  authModule: (options: AuthModuleOptions) => DynamicModule;
  guarded: boolean;
}

const WIRINGS: Wiring[] = [
  { name: 'forRoot', guarded: true, authModule: (options) => AuthModule.forRoot(options) },
  {
    name: 'forRootAsync',
    guarded: true,
    authModule: (options) => AuthModule.forRootAsync({ useFactory: () => options }),
  },
  {
    name: 'forRoot with isGlobal: false',
    guarded: true,
    authModule: (options) => AuthModule.forRoot({ ...options, isGlobal: false }),
  },
  {
    name: 'forRoot with installGlobalGuard: undefined',
    guarded: true,
    authModule: (options) => AuthModule.forRoot({ ...options, installGlobalGuard: undefined }),
  },
  {
    // the module's shape is fixed before the factory runs: its result cannot remove the guard
    name: 'forRootAsync with installGlobalGuard: false returned by the factory',
    guarded: true,
    authModule: (options) =>
      AuthModule.forRootAsync({
        useFactory: () => ({ ...options, installGlobalGuard: false }) as AuthModuleOptions,
      }),
  },
  {
    name: 'forRoot with installGlobalGuard: false',
    guarded: false,
    authModule: (options) => AuthModule.forRoot({ ...options, installGlobalGuard: false }),
  },
  {
    name: 'forRootAsync with installGlobalGuard: false',
    guarded: false,
    authModule: (options) =>
      AuthModule.forRootAsync({ useFactory: () => options, installGlobalGuard: false }),
  },
];

/** A hybrid app whose root module imports `AuthModule` and a feature module, and registers no guard or filter. */
interface SecuredApp {
  app: INestApplication;
  url: string;
  subject: string;
  reached: string[];
}

/** A feature module of plain handlers (no guard of their own), and a root-module controller guarded explicitly. */
function controllers(subject: string, reached: string[]): { FeatureModule: Type; ExplicitController: Type } {
  @Controller('plain')
  class PlainController {
    @Get()
    plain(): { reached: true } {
      reached.push('http');
      return { reached: true };
    }
  }

  @Controller()
  class PlainRpcController {
    @MessagePattern(subject)
    plain(): { reached: true } {
      reached.push('nats');
      return { reached: true };
    }
  }

  @Module({ controllers: [PlainController, PlainRpcController] })
  class FeatureModule {}

  // guarded explicitly: with the global guard off, the module's filter still answers its refusals
  @Controller('explicit')
  class ExplicitController {
    @Get()
    @UseGuards(AccessTokenGuard)
    explicit(): { reached: true } {
      reached.push('http explicit');
      return { reached: true };
    }
  }
  return { FeatureModule, ExplicitController };
}

async function startApp(
  adapter: HttpAdapterName,
  wiring: Wiring,
  options: Omit<AuthModuleOptions, 'serviceName'>,
  inheritAppConfig = true,
): Promise<SecuredApp> {
  const name = `secure-${randomUUID().slice(0, 8)}`;
  const subject = `test.${name}.plain`;
  const reached: string[] = [];

  const { FeatureModule, ExplicitController } = controllers(subject, reached);
  @Module({
    imports: [wiring.authModule({ ...options, serviceName: name }), FeatureModule],
    controllers: [ExplicitController],
  })
  class AppModule {}

  const app = await NestFactory.create(AppModule, createHttpAdapter(adapter), {
    logger: false,
    abortOnError: false,
  });
  const microservice = natsMicroserviceOptions({ url: NATS_URL, name });
  app.connectMicroservice(microservice, { inheritAppConfig });
  await app.init();
  try {
    await app.startAllMicroservices();
  } catch (error) {
    await app.close();
    throw error;
  }
  // the server has the handlers' subscriptions once it has answered a ping sent after them
  await (microservice.strategy as ServerNats).unwrap<NatsConnection>().flush();
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1'), subject, reached };
}

describe.each(HTTP_ADAPTERS)('an app that imports AuthModule, on %s', (adapter) => {
  const issuer = createTestIssuer();
  const bucket = uniqueBucketName();
  let jwks: JwksServer;
  let nats: NatsTestClient;
  let options: Omit<AuthModuleOptions, 'serviceName'>;

  beforeAll(async () => {
    jwks = await issuer.serveJwks();
    nats = await NatsTestClient.connect(NATS_URL);
    options = {
      issuer: issuer.issuer,
      audience: 'orders',
      jwksUri: jwks.url,
      natsUrl: NATS_URL,
      revocationBucket: bucket,
    };
  });

  afterAll(async () => {
    await deleteBucket(nats, bucket);
    await nats?.close();
    await jwks?.stop();
  });

  it.each(WIRINGS.filter((wiring) => wiring.guarded))(
    'refuses a call without a token over HTTP and NATS, and admits a valid one ($name)',
    async (wiring) => {
      const secured = await startApp(adapter, wiring, options);
      try {
        const http = await httpGet(secured.url, '/plain');
        const reply = await nats.request(secured.subject, {});

        expect(http.status).toBe(401);
        expect(http.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
        expect(JSON.parse(http.body)).toEqual({
          statusCode: 401,
          error: 'Unauthorized',
          message: expect.any(String),
        });
        expect(reply.err).toEqual({ status: 401, message: expect.any(String) });
        expect(secured.reached).toEqual([]);

        const headers = { authorization: `Bearer ${issuer.mintAccessToken()}` };
        expect((await httpGet(secured.url, '/plain', headers)).status).toBe(200);
        expect((await nats.request(secured.subject, {}, { headers })).response).toEqual({ reached: true });
        expect(secured.reached).toEqual(['http', 'nats']);
      } finally {
        await secured.app.close();
      }
    },
  );

  it('runs the guard once per call: the module installs it once', async () => {
    const canActivate = jest.spyOn(AccessTokenGuard.prototype, 'canActivate');
    const secured = await startApp(adapter, WIRINGS[0], options);
    try {
      const headers = { authorization: `Bearer ${issuer.mintAccessToken()}` };
      canActivate.mockClear();

      await httpGet(secured.url, '/plain', headers);
      await nats.request(secured.subject, {}, { headers });

      expect(canActivate).toHaveBeenCalledTimes(2);
    } finally {
      canActivate.mockRestore();
      await secured.app.close();
    }
  });

  // Nest applies APP_GUARD to the HTTP app's config only: a microservice that does not inherit it
  // would run every NATS handler for anyone
  it.each(WIRINGS.filter((wiring) => wiring.guarded))(
    'will not start its NATS handlers without the guard: a microservice connected without inheritAppConfig ($name)',
    async (wiring) => {
      const starting = startApp(adapter, wiring, options, false);

      await expect(starting).rejects.toThrow(
        /AccessTokenGuard does not reach its NATS handlers.*inheritAppConfig: true/,
      );
    },
  );

  it('never subscribes its guard probe on the bus', async () => {
    const secured = await startApp(adapter, WIRINGS[0], options);
    try {
      const probe = nats.request('relay.guard-probe', {}, { timeoutMs: 500 });

      await expect(probe).rejects.toThrow(/503|no responders/i);
    } finally {
      await secured.app.close();
    }
  });

  it.each(WIRINGS.filter((wiring) => !wiring.guarded))(
    'starts without inheritAppConfig when it opts out ($name): its handlers are the app’s to guard',
    async (wiring) => {
      const secured = await startApp(adapter, wiring, options, false);
      try {
        expect((await nats.request(secured.subject, {})).response).toEqual({ reached: true });
      } finally {
        await secured.app.close();
      }
    },
  );

  it.each(WIRINGS.filter((wiring) => !wiring.guarded))(
    'leaves handlers to the app when it opts out ($name), still answering refusals with the module’s filter',
    async (wiring) => {
      const secured = await startApp(adapter, wiring, options);
      try {
        const http = await httpGet(secured.url, '/plain');
        const reply = await nats.request(secured.subject, {});
        const explicit = await httpGet(secured.url, '/explicit');

        expect(http.status).toBe(200);
        expect(reply.response).toEqual({ reached: true });
        expect(explicit.status).toBe(401);
        expect(explicit.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
        expect(JSON.parse(explicit.body)).toEqual({
          statusCode: 401,
          error: 'Unauthorized',
          message: expect.any(String),
        });
        expect(secured.reached).toEqual(['http', 'nats']);
      } finally {
        await secured.app.close();
      }
    },
  );
});
