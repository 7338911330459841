// The shop's own spec, written against @relay/auth/testing only: a private nats-server, a test issuer
// with its own JWKS endpoint, the forged token families, and a NATS client with headers both ways.
// ADAPTER=fastify|express picks Nest's HTTP adapter (default: both).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { type INestApplication, Logger } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  createTestIssuer,
  forgedTokens,
  type JwksServer,
  mintForeignToken,
  NatsTestClient,
  type NatsServer,
  respondOnNats,
  startNatsServer,
} from '@relay/auth/testing';
import { relayFastifyOptions } from '@relay/auth';

const ADAPTERS: Record<string, () => AbstractHttpAdapter> = {
  fastify: () => new FastifyAdapter(relayFastifyOptions()),
  express: () => new ExpressAdapter(),
};
const chosen = process.env['ADAPTER'] ? [process.env['ADAPTER']] : Object.keys(ADAPTERS);

const issuer = createTestIssuer({ audience: ['shop'] });
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const traceparent = `00-${TRACE_ID}-00f067aa0ba902b7-01`;
let nats: NatsServer;
let jwks: JwksServer;
let client: NatsTestClient;

before(async () => {
  Logger.overrideLogger(false);
  nats = await startNatsServer({ jetstream: true });
  jwks = await issuer.serveJwks();
  client = await NatsTestClient.connect(nats.url);
  Object.assign(process.env, { AUTH_ISSUER: issuer.issuer, AUTH_JWKS_URI: jwks.url, NATS_URL: nats.url });
});

after(async () => {
  await client?.close();
  await jwks?.stop();
  await nats?.stop();
});

for (const adapter of chosen) {
  describe(`the shop on ${adapter}`, () => {
    let app: INestApplication;
    let url: string;
    const get = (path: string, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`${url}${path}`, { headers });

    before(async () => {
      const { createApp } = await import('./main');
      app = await createApp(ADAPTERS[adapter]());
      await app.listen(0, '127.0.0.1');
      url = await app.getUrl();
    });

    after(async () => {
      await app?.close();
    });

    it('answers a public route without a token', async () => {
      assert.equal((await get('/health')).status, 200);
    });

    it('refuses an HTTP request without a token, or with a forged one', async () => {
      const missing = await get('/me');
      assert.equal(missing.status, 401);
      assert.equal(missing.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
      const foreign = await get('/me', { authorization: `Bearer ${mintForeignToken(issuer)}` });
      assert.equal(foreign.status, 401);
      for (const forged of forgedTokens(issuer)) {
        const authorization = forged.authorization();
        const response = await get('/me', authorization === undefined ? {} : { authorization });
        assert.equal(response.status, 401, `HTTP accepted a token that ${forged.reason}`);
      }
    });

    it('accepts a valid token over HTTP', async () => {
      const response = await get('/me', { authorization: `Bearer ${issuer.mintAccessToken()}` });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { subject: 'user-1' });
    });

    it('refuses a NATS request without a token, or with a forged one, and accepts a valid one', async () => {
      const missing = await client.request('shop.me', {});
      assert.deepEqual(missing.err && (missing.err as { status: number }).status, 401);
      for (const forged of forgedTokens(issuer)) {
        const authorization = forged.authorization();
        const reply = await client.request(
          'shop.me',
          {},
          authorization ? { headers: { authorization } } : {},
        );
        assert.equal((reply.err as { status?: number } | undefined)?.status, 401, forged.reason);
      }
      const valid = await client.request(
        'shop.me',
        {},
        {
          headers: { authorization: `Bearer ${issuer.mintAccessToken()}` },
        },
      );
      assert.deepEqual(valid.response, { subject: 'user-1' });
    });

    it('carries the caller token, traceparent and x-request-id onto an outgoing NATS call', async () => {
      const warehouse = await respondOnNats(client, 'warehouse.stock', () => ({ available: 3 }));
      try {
        const token = issuer.mintAccessToken();
        const httpRequestId = randomUUID();
        const overHttp = await get('/stock', {
          authorization: `Bearer ${token}`,
          traceparent,
          'x-request-id': httpRequestId,
        });
        assert.equal(overHttp.status, 200);
        assert.deepEqual(await overHttp.json(), { available: 3 });

        const natsRequestId = randomUUID();
        const overNats = await client.request(
          'shop.stock',
          {},
          {
            headers: { authorization: `Bearer ${token}`, traceparent, 'x-request-id': natsRequestId },
          },
        );
        assert.deepEqual(overNats.response, { available: 3 });

        assert.equal(warehouse.received.length, 2);
        for (const [message, requestId] of warehouse.received.map(
          (m, i) => [m, [httpRequestId, natsRequestId][i]] as const,
        )) {
          assert.equal(message.headers['authorization'], `Bearer ${token}`);
          assert.equal(message.headers['x-request-id'], requestId);
          // the shop registers no OpenTelemetry SDK, so it records no span of its own: the caller's
          // context travels on unchanged (with an SDK, the shop's client span would be the parent)
          assert.equal(message.headers['traceparent'], traceparent);
        }
      } finally {
        await warehouse.stop();
      }
    });
  });
}
