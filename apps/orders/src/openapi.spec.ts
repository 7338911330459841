import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPIObject, ResponseObject } from '@nestjs/swagger';

import { createServiceApp } from '@relay/bootstrap';
import { initAndCheckOpenApi, OPENAPI_UI_PATH, type OpenApiConformance } from '@relay/observability';
import { startServiceUnderTest } from '@relay/testing';

// The real orders app on a private NATS and embedded PostgreSQL; no issuer is needed: every call
// here is made without a token.
describe('orders OpenAPI document', () => {
  let app: NestFastifyApplication;
  let stop: () => Promise<void>;
  let document: OpenAPIObject;
  let conformance: OpenApiConformance;

  beforeAll(async () => {
    const env = { AUTH_ISSUER: 'http://issuer.relay.test' };
    ({ app, stop } = await startServiceUnderTest({ name: 'orders-openapi', env }, async (natsUrl) => {
      // imported only now: ConfigModule.forRoot validates process.env when the module is loaded
      const { AppModule } = await import('./app.module');
      return createServiceApp(AppModule, { name: 'orders', natsUrl, logLevel: 'error' });
    }));
    ({ document, conformance } = await initAndCheckOpenApi(app));
  }, 60_000);

  afterAll(async () => {
    await stop?.();
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
