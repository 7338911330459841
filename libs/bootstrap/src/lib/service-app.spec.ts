import { Body, Controller, Module, Post } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

import { BODY_LIMIT_BYTES, createServiceApp } from './service-app';

@Controller('echo')
class EchoController {
  @Post()
  echo(@Body() body: unknown): unknown {
    return body;
  }
}

@Module({ controllers: [EchoController] })
class EchoModule {}

async function startEcho(jsonOnly?: boolean): Promise<NestFastifyApplication> {
  // NATS is only contacted by startAllMicroservices(), which these specs never call.
  const app = await createServiceApp(EchoModule, {
    name: 'service-app-spec',
    natsUrl: 'nats://127.0.0.1:1',
    logLevel: 'error',
    ...(jsonOnly === undefined ? {} : { jsonOnly }),
  });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

describe(createServiceApp.name, () => {
  describe('by default (JSON only)', () => {
    let app: NestFastifyApplication;

    beforeAll(async () => {
      app = await startEcho();
    });

    afterAll(async () => {
      await app.close();
    });

    it('accepts a JSON body', async () => {
      const reply = await app.inject({ method: 'POST', url: '/echo', payload: { a: 1 } });

      expect(reply.statusCode).toBe(201);
      expect(reply.json()).toEqual({ a: 1 });
    });

    it.each([
      ['text/plain', 'hello'],
      ['application/x-www-form-urlencoded', 'a=1'],
    ])('answers 415 to a %s body', async (contentType, payload) => {
      const reply = await app.inject({
        method: 'POST',
        url: '/echo',
        headers: { 'content-type': contentType },
        payload,
      });

      expect(reply.statusCode).toBe(415);
    });

    it('answers 413 to a body over the limit', async () => {
      const reply = await app.inject({
        method: 'POST',
        url: '/echo',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ a: 'x'.repeat(BODY_LIMIT_BYTES) }),
      });

      expect(reply.statusCode).toBe(413);
    });
  });

  describe('with jsonOnly false', () => {
    let app: NestFastifyApplication;

    beforeAll(async () => {
      app = await startEcho(false);
    });

    afterAll(async () => {
      await app.close();
    });

    it('parses a form-encoded body', async () => {
      const reply = await app.inject({
        method: 'POST',
        url: '/echo',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'grant_type=client_credentials',
      });

      expect(reply.statusCode).toBe(201);
      expect(reply.json()).toEqual({ grant_type: 'client_credentials' });
    });
  });
});
