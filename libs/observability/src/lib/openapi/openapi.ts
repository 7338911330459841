import type { INestApplication } from '@nestjs/common';
import { ApiBearerAuth, DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

import { ErrorResponse } from './error-response';
import { addStandardResponses, BEARER_SCHEME } from './standard-responses';

/** Where every Relay app serves its API explorer (Swagger UI); public, like the document. */
export const OPENAPI_UI_PATH = '/docs';
/** Where every Relay app serves its OpenAPI document as JSON. */
export const OPENAPI_JSON_PATH = '/docs-json';
/** Version of the documented HTTP API (`info.version`): it changes when the contract does. */
export const API_VERSION = '1.0.0';

/**
 * Marks a route (or every route of a controller) as needing `Authorization: Bearer <token>` in the
 * document; the routes without `@Public()` are exactly these (each app's OpenAPI spec checks it).
 */
export const ApiBearerToken = (): MethodDecorator & ClassDecorator => ApiBearerAuth(BEARER_SCHEME);

/**
 * Serves the app's OpenAPI document at {@link OPENAPI_JSON_PATH} and Swagger UI at
 * {@link OPENAPI_UI_PATH}, on the Fastify instance itself: outside Nest's router, so the global
 * guard never sees them and no token is needed. The document is built from the controllers and
 * DTOs on its first request (after `init`), so startup does not pay for it.
 */
export function installOpenApi(app: INestApplication, service: string): void {
  SwaggerModule.setup(OPENAPI_UI_PATH, app, () => buildOpenApiDocument(app, service), {
    ui: true,
    raw: ['json'],
    jsonDocumentUrl: OPENAPI_JSON_PATH,
    customSiteTitle: `Relay ${service} API`,
  });
}

/** The OpenAPI document of a Relay app, as served at {@link OPENAPI_JSON_PATH}. */
export function buildOpenApiDocument(app: INestApplication, service: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle(`Relay ${service}`)
    .setDescription(
      `The HTTP API of Relay's ${service} service. JSON in and out; unknown JSON fields are refused ` +
        'with 400. Routes marked with a lock need `Authorization: Bearer <access token>` ' +
        '(an ES256 JWT from the auth service).',
    )
    .setVersion(API_VERSION)
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'An access token from the auth service (`POST /auth/login` or `POST /oauth/token`)',
      },
      BEARER_SCHEME,
    )
    .build();
  return addStandardResponses(SwaggerModule.createDocument(app, config, { extraModels: [ErrorResponse] }));
}
