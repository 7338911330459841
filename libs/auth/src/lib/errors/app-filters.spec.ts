import {
  type ArgumentsHost,
  Catch,
  Controller,
  type ExceptionFilter,
  Get,
  type INestApplication,
  UseFilters,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { FastifyReply } from 'fastify';

import { createTestIssuer, NatsTestClient } from '@relay/testing';

import { NATS_URL } from '../../test-support/probe-app';
import { deleteBucket, putRevocations, uniqueBucketName } from '../../test-support/revocation-bucket';
import { AuthModule } from '../auth.module';
import { Public } from '../decorators/public.decorator';

class TeapotError extends Error {}

/** An app's own filter for one error of its own. */
@Catch(TeapotError)
class TeapotFilter implements ExceptionFilter {
  catch(_error: TeapotError, host: ArgumentsHost): void {
    void host.switchToHttp().getResponse<FastifyReply>().code(418).send({ teapot: true });
  }
}

@Public()
@Controller('global')
class GloballyFilteredController {
  @Get()
  brew(): never {
    throw new TeapotError('brewing');
  }
}

@Public()
@Controller('bound')
@UseFilters(TeapotFilter)
class BoundFilterController {
  @Get()
  brew(): never {
    throw new TeapotError('brewing');
  }
}

// libs/auth README: the module's catch-all filter is registered after the root module's APP_FILTER,
// so it is tried first and an app's own global filter never runs; a controller's filter does
describe("an app's own exception filters beside AuthModule's", () => {
  const bucket = uniqueBucketName();
  let nats: NatsTestClient;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    nats = await NatsTestClient.connect(NATS_URL);
    await putRevocations(nats, bucket, []);
    const issuer = createTestIssuer();
    const moduleRef = await Test.createTestingModule({
      imports: [
        AuthModule.forRoot({
          issuer: issuer.issuer,
          audience: 'orders',
          jwksUri: 'http://127.0.0.1:9/jwks.json',
          natsUrl: NATS_URL,
          serviceName: 'app-filters-spec',
          revocationBucket: bucket,
        }),
      ],
      controllers: [GloballyFilteredController, BoundFilterController],
      providers: [{ provide: APP_FILTER, useClass: TeapotFilter }],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  afterAll(async () => {
    await (app as INestApplication | undefined)?.close();
    await deleteBucket(nats, bucket);
    await nats?.close();
  });

  it('runs a filter bound with @UseFilters() on the controller', async () => {
    const response = await app.inject({ method: 'GET', url: '/bound' });

    expect([response.statusCode, response.json()]).toEqual([418, { teapot: true }]);
  });

  it("never runs the app's APP_FILTER: the module's catch-all answers first", async () => {
    const response = await app.inject({ method: 'GET', url: '/global' });

    expect(response.statusCode).toBe(500);
  });
});
