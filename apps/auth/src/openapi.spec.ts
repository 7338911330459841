import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPIObject, ResponseObject } from '@nestjs/swagger';

import { createServiceApp } from '@relay/bootstrap';
import { initAndCheckOpenApi, OPENAPI_UI_PATH, type OpenApiConformance } from '@relay/observability';
import { startServiceUnderTest } from '@relay/testing';

// The real auth app, built as main.ts builds it, on a private NATS and embedded PostgreSQL.
describe('auth OpenAPI document', () => {
  let app: NestFastifyApplication;
  let stop: () => Promise<void>;
  let document: OpenAPIObject;
  let conformance: OpenApiConformance;

  beforeAll(async () => {
    const env = { AUTH_ISSUER: 'http://localhost:3000' };
    ({ app, stop } = await startServiceUnderTest({ name: 'auth-openapi', env }, async (natsUrl) => {
      // imported only now: ConfigModule.forRoot validates process.env when the module is loaded
      const { AppModule } = await import('./app.module');
      const { validateAuthConfig } = await import('./config/auth.config');
      const { createHttpAdapter } = await import('./http/create-http-adapter');
      return createServiceApp(AppModule, {
        name: 'auth',
        natsUrl,
        logLevel: 'error',
        adapter: createHttpAdapter(validateAuthConfig(process.env)),
        formBodyRoutes: ['/oauth/token'],
      });
    }));
    ({ document, conformance } = await initAndCheckOpenApi(app));
  }, 60_000);

  afterAll(async () => {
    await stop?.();
  });

  const responsesOf = (path: string, method: 'get' | 'post'): Record<string, ResponseObject> =>
    document.paths[path][method]?.responses as Record<string, ResponseObject>;

  it('serves its document without a token: title, version and the bearer scheme', () => {
    expect(document.info).toMatchObject({ title: 'Relay auth', version: expect.any(String) });
    expect(document.components?.securitySchemes?.['bearer']).toEqual(
      expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
    );
  });

  it('serves Swagger UI at /docs without a token', async () => {
    const page = await app.inject({ method: 'GET', url: OPENAPI_UI_PATH });

    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('swagger-ui');
  });

  it('documents every route the app serves, and no other', () => {
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/auth/register',
        '/auth/login',
        '/auth/refresh',
        '/auth/logout',
        '/auth/logout-all',
        '/auth/password',
        '/auth/me',
        '/oauth/token',
        '/.well-known/jwks.json',
        '/.well-known/openid-configuration',
        '/auth/admin/users',
        '/auth/admin/users/{id}/block',
        '/auth/admin/users/{id}/unblock',
        '/auth/admin/keys/rotate',
        '/health',
      ]),
    );
    expect(conformance.undocumented).toEqual([]);
    expect(conformance.unserved).toEqual([]);
  });

  it('requires the bearer token exactly where the guard does', () => {
    expect(conformance.security).toEqual([]);
  });

  it("documents each body and query with its DTO's fields", () => {
    expect(conformance.inputs).toEqual([]);
  });

  it('documents the throttled and refused answers, with their headers', () => {
    expect(responsesOf('/auth/login', 'post')['429'].headers).toHaveProperty('Retry-After');
    expect(responsesOf('/auth/register', 'post')).toHaveProperty('409');
    expect(responsesOf('/auth/me', 'get')['401'].headers).toHaveProperty('WWW-Authenticate');
    expect(Object.keys(document.paths['/oauth/token'].post?.requestBody ?? {})).toContain('content');
  });
});
