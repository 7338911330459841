import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPIObject, ResponseObject } from '@nestjs/swagger';

import { createServiceApp } from '@relay/bootstrap';
import {
  checkOpenApiConformance,
  OPENAPI_JSON_PATH,
  OPENAPI_UI_PATH,
  type OpenApiConformance,
  recordRoutes,
} from '@relay/observability';
import { type NatsServer, startNatsServer } from '@relay/testing';

// The real orders app on a private NATS and embedded PostgreSQL; no issuer is needed: every call
// here is made without a token.
describe('orders OpenAPI document', () => {
  let natsServer: NatsServer;
  let dataDir: string;
  let app: NestFastifyApplication;
  let document: OpenAPIObject;
  let conformance: OpenApiConformance;

  beforeAll(async () => {
    natsServer = await startNatsServer({ jetstream: true });
    dataDir = mkdtempSync(join(tmpdir(), 'relay-orders-openapi-'));
    delete process.env['DATABASE_URL'];
    Object.assign(process.env, {
      AUTH_ISSUER: 'http://issuer.relay.test',
      DATA_DIR: dataDir,
      NATS_URL: natsServer.url,
      LOG_LEVEL: 'error',
    });
    // imported only now: ConfigModule.forRoot validates process.env when the module is loaded
    const { AppModule } = await import('./app.module');
    app = await createServiceApp(AppModule, { name: 'orders', natsUrl: natsServer.url, logLevel: 'error' });
    const routes = recordRoutes(app);
    await app.init();
    document = (await app.inject({ method: 'GET', url: OPENAPI_JSON_PATH })).json<OpenAPIObject>();
    conformance = await checkOpenApiConformance(app, routes, document);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await natsServer?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const responsesOf = (path: string, method: 'get' | 'post'): Record<string, ResponseObject> =>
    document.paths[path][method]?.responses as Record<string, ResponseObject>;

  it('serves its document without a token: title, version and the bearer scheme', () => {
    expect(document.info).toMatchObject({ title: 'Relay orders', version: expect.any(String) });
    expect(document.components?.securitySchemes?.['bearer']).toEqual(
      expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
    );
  });

  it('serves Swagger UI at /docs without a token', async () => {
    const page = await app.inject({ method: 'GET', url: OPENAPI_UI_PATH });
    const bundle = await app.inject({ method: 'GET', url: `${OPENAPI_UI_PATH}/swagger-ui-bundle.js` });

    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('swagger-ui');
    expect(bundle.statusCode).toBe(200);
  });

  it('documents every route the app serves, and no other', () => {
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/orders', '/orders/{id}', '/health', '/health/ready', '/health/live']),
    );
    expect(conformance.undocumented).toEqual([]);
    expect(conformance.unserved).toEqual([]);
  });

  it('requires the bearer token exactly where the guard does', () => {
    expect(conformance.security).toEqual([]);
  });

  it("documents each body with its DTO's fields", () => {
    expect(conformance.inputs).toEqual([]);
  });

  it('documents the error answers of POST /orders, with the challenge header on 401', () => {
    const responses = responsesOf('/orders', 'post');

    expect(Object.keys(responses).sort()).toEqual(
      ['201', '400', '401', '403', '409', '413', '415', '503'].sort(),
    );
    expect(responses['401'].headers).toHaveProperty('WWW-Authenticate');
    expect(responsesOf('/orders/{id}', 'get')).toHaveProperty('404');
  });
});
