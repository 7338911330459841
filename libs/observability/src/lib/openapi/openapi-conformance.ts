import { type INestApplication, RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ModulesContainer } from '@nestjs/core';
import type {
  OpenAPIObject,
  OperationObject,
  ParameterObject,
  ReferenceObject,
  SchemaObject,
} from '@nestjs/swagger';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import type { FastifyInstance, HTTPMethods, InjectOptions } from 'fastify';

import { OPENAPI_JSON_PATH, OPENAPI_UI_PATH } from './openapi';
import { isSecured } from './standard-responses';

/** A route as registered on Fastify: `GET /orders/:id`. */
export interface RegisteredRoute {
  method: string;
  url: string;
}

/** Where an app's routes and its OpenAPI document disagree; every list is empty when they agree. */
export interface OpenApiConformance {
  /** Routes the app serves that the document does not list (`GET /orders/:id`). */
  undocumented: string[];
  /** Operations the document lists that the app does not serve. */
  unserved: string[];
  /** Operations whose bearer requirement differs from what the app answers without a token. */
  security: string[];
  /** Bodies and query parameters whose documented fields differ from the DTO's validated ones. */
  inputs: string[];
}

/**
 * Records every route registered on the app's Fastify instance from now on. Call it between
 * `createServiceApp` and `init`: the controllers' routes are registered in `init`, after the
 * document's own routes, so the list is what the app serves as its API.
 */
export function recordRoutes(app: INestApplication): RegisteredRoute[] {
  const routes: RegisteredRoute[] = [];
  fastifyOf(app).addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
  return routes;
}

/**
 * Checks `document` against the app (initialised): the routes it registered, its controllers' DTOs,
 * and what each operation answers without a token (a secured route 401 with a `Bearer` challenge,
 * a public one anything else), so the document is held to the guard's real behaviour.
 */
export async function checkOpenApiConformance(
  app: INestApplication,
  routes: readonly RegisteredRoute[],
  document: OpenAPIObject,
): Promise<OpenApiConformance> {
  const operations = documentedOperations(document);
  const documented = new Set(operations.map(({ method, url }) => `${method} ${url}`));
  const served = routes.filter(
    ({ method, url }) => method !== 'HEAD' && method !== 'OPTIONS' && !isDocumentRoute(url),
  );
  const fastify = fastifyOf(app);
  return {
    undocumented: served
      .map(({ method, url }) => `${method} ${url}`)
      .filter((route) => !documented.has(route)),
    unserved: operations
      .filter(({ method, url }) => !fastify.hasRoute({ method: method as HTTPMethods, url }))
      .map(({ method, url }) => `${method} ${url}`),
    security: await securityMismatches(app, operations),
    inputs: inputMismatches(app, document, operations),
  };
}

/** The document an app serves and how it conforms to the app (see {@link initAndCheckOpenApi}). */
export interface OpenApiCheck {
  document: OpenAPIObject;
  conformance: OpenApiConformance;
}

/**
 * Initialises `app` (created by `createServiceApp`, not yet initialised) with its routes recorded,
 * then reads the document it serves at {@link OPENAPI_JSON_PATH} and checks it against the app
 * ({@link checkOpenApiConformance}).
 */
export async function initAndCheckOpenApi(app: INestApplication): Promise<OpenApiCheck> {
  const routes = recordRoutes(app);
  await app.init();
  const document = (
    await fastifyOf(app).inject({ method: 'GET', url: OPENAPI_JSON_PATH })
  ).json<OpenAPIObject>();
  return { document, conformance: await checkOpenApiConformance(app, routes, document) };
}

// the document and Swagger UI's assets: served beside the API, not part of it
function isDocumentRoute(url: string): boolean {
  return url === OPENAPI_UI_PATH || url.startsWith(`${OPENAPI_UI_PATH}/`) || url === OPENAPI_JSON_PATH;
}

interface DocumentedOperation {
  method: string;
  /** Fastify's form: `/orders/:id`. */
  url: string;
  operation: OperationObject;
}

function documentedOperations(document: OpenAPIObject): DocumentedOperation[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    (['get', 'put', 'post', 'delete', 'patch'] as const).flatMap((method) => {
      const operation = item[method];
      if (operation === undefined) return [];
      return [{ method: method.toUpperCase(), url: path.replace(/\{([^}]+)\}/g, ':$1'), operation }];
    }),
  );
}

async function securityMismatches(
  app: INestApplication,
  operations: readonly DocumentedOperation[],
): Promise<string[]> {
  const fastify = fastifyOf(app);
  const mismatches: string[] = [];
  for (const { method, url, operation } of operations) {
    const request: InjectOptions = {
      method: method as InjectOptions['method'],
      // a well-formed value for every parameter (a uuid is also a valid sku)
      url: url.replace(/:[^/]+/g, '00000000-0000-4000-8000-000000000000'),
      ...(operation.requestBody === undefined ? {} : { payload: {} }),
    };
    const answer = await fastify.inject(request);
    const challenged =
      answer.statusCode === 401 && String(answer.headers['www-authenticate'] ?? '').startsWith('Bearer');
    if (challenged !== isSecured(operation)) {
      mismatches.push(
        `${method} ${url}: documented ${isSecured(operation) ? 'secured' : 'public'}, answered ${answer.statusCode} without a token`,
      );
    }
  }
  return mismatches;
}

/** A controller handler as Nest routes it, with the DTO classes of its `@Body()` and `@Query()`. */
interface HandlerRoute {
  method: string;
  url: string;
  body?: Type<unknown>;
  query?: Type<unknown>;
}

function inputMismatches(
  app: INestApplication,
  document: OpenAPIObject,
  operations: readonly DocumentedOperation[],
): string[] {
  const byRoute = new Map(operations.map((entry) => [`${entry.method} ${entry.url}`, entry.operation]));
  return handlerRoutes(app).flatMap(({ method, url, body, query }) => {
    const route = `${method} ${url}`;
    const operation = byRoute.get(route);
    if (operation === undefined) return [];
    const problems: string[] = [];
    const bodySchema = jsonBodySchema(document, operation);
    if (body !== undefined && bodySchema === undefined) problems.push(`${route}: no JSON body documented`);
    if (body !== undefined && bodySchema !== undefined) {
      problems.push(
        ...fieldDifferences(`${route} body`, validatedFields(body), documentedFields(bodySchema)),
      );
    }
    if (query !== undefined) {
      const parameters = (operation.parameters ?? []).filter(
        (parameter): parameter is ParameterObject => !('$ref' in parameter) && parameter.in === 'query',
      );
      const documented = parameters.map(({ name, required }) => ({ name, required: required === true }));
      problems.push(...fieldDifferences(`${route} query`, validatedFields(query), documented));
    }
    return problems;
  });
}

interface Field {
  name: string;
  required: boolean;
}

function fieldDifferences(where: string, validated: Field[], documented: Field[]): string[] {
  const describe = (fields: Field[]): string =>
    fields
      .map(({ name, required }) => `${name}${required ? '' : '?'}`)
      .sort()
      .join(', ');
  return describe(validated) === describe(documented)
    ? []
    : [`${where}: validates {${describe(validated)}}, documents {${describe(documented)}}`];
}

/** The fields class-validator accepts on `dto` (the whitelist); optional ones are `@IsOptional()`. */
function validatedFields(dto: Type<unknown>): Field[] {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false);
  const names = [...new Set(metadata.map(({ propertyName }) => propertyName))];
  return names.map((name) => ({
    name,
    required: !metadata.some(
      (entry) => entry.propertyName === name && entry.type === ValidationTypes.CONDITIONAL_VALIDATION,
    ),
  }));
}

function documentedFields(schema: SchemaObject): Field[] {
  const required = new Set(schema.required ?? []);
  return Object.keys(schema.properties ?? {}).map((name) => ({ name, required: required.has(name) }));
}

function jsonBodySchema(document: OpenAPIObject, operation: OperationObject): SchemaObject | undefined {
  const body = operation.requestBody;
  if (body === undefined || '$ref' in body) return undefined;
  const schema = body.content['application/json']?.schema;
  return schema === undefined ? undefined : resolve(document, schema);
}

function resolve(document: OpenAPIObject, schema: SchemaObject | ReferenceObject): SchemaObject | undefined {
  if (!('$ref' in schema)) return schema;
  const target = document.components?.schemas?.[schema.$ref.replace('#/components/schemas/', '')];
  return target === undefined ? undefined : resolve(document, target);
}

/** Every controller handler of the app, read from the same metadata Nest's router reads. */
function handlerRoutes(app: INestApplication): HandlerRoute[] {
  const routes: HandlerRoute[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type<unknown> | null;
      if (controller !== null) routes.push(...routesOf(controller));
    }
  }
  return routes;
}

function routesOf(controller: Type<unknown>): HandlerRoute[] {
  const prototype = controller.prototype as Record<string, unknown>;
  const prefixes = pathsOf(Reflect.getMetadata(PATH_METADATA, controller));
  return Object.getOwnPropertyNames(prototype).flatMap((key) => {
    const handler = prototype[key];
    if (typeof handler !== 'function' || !Reflect.hasMetadata(METHOD_METADATA, handler)) return [];
    const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
    const inputs = inputsOf(controller, key);
    return prefixes.flatMap((prefix) =>
      pathsOf(Reflect.getMetadata(PATH_METADATA, handler)).map((path) => ({
        method,
        url: joinPath(prefix, path),
        ...inputs,
      })),
    );
  });
}

function inputsOf(controller: Type<unknown>, key: string): Pick<HandlerRoute, 'body' | 'query'> {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, key) ?? {}) as Record<
    string,
    { index: number; data?: unknown }
  >;
  const types = (Reflect.getMetadata('design:paramtypes', controller.prototype, key) ?? []) as unknown[];
  const dtoOf = (kind: RouteParamtypes): Type<unknown> | undefined => {
    const entry = Object.entries(args).find(
      ([name, arg]) => name.startsWith(`${kind}:`) && arg.data === undefined,
    );
    const type = entry === undefined ? undefined : types[entry[1].index];
    return typeof type === 'function' && type !== Object ? (type as Type<unknown>) : undefined;
  };
  return { body: dtoOf(RouteParamtypes.BODY), query: dtoOf(RouteParamtypes.QUERY) };
}

function pathsOf(metadata: unknown): string[] {
  if (Array.isArray(metadata)) return metadata.map(String);
  return [typeof metadata === 'string' ? metadata : ''];
}

function joinPath(...parts: string[]): string {
  const joined = parts.map((part) => part.replace(/^\/+|\/+$/g, '')).filter((part) => part !== '');
  return `/${joined.join('/')}`;
}

function fastifyOf(app: INestApplication): FastifyInstance {
  const instance: FastifyInstance = app.getHttpAdapter().getInstance();
  return instance;
}
