import type {
  HeaderObject,
  OpenAPIObject,
  OperationObject,
  ReferenceObject,
  ResponseObject,
} from '@nestjs/swagger';

import { ErrorResponse } from './error-response';

/** Name of the bearer security scheme in every Relay document. */
export const BEARER_SCHEME = 'bearer';

const REQUEST_ID_HEADER = 'x-request-id';
const ERROR_SCHEMA: ReferenceObject = { $ref: `#/components/schemas/${ErrorResponse.name}` };
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

const textHeader = (description: string): HeaderObject => ({ description, schema: { type: 'string' } });

function errorAnswer(description: string, headers?: Record<string, HeaderObject>): ResponseObject {
  return {
    description,
    content: { 'application/json': { schema: ERROR_SCHEMA } },
    ...(headers === undefined ? {} : { headers }),
  };
}

// the global AccessTokenGuard and TransportExceptionFilter answer these on every secured route
const BEARER_ANSWERS: Readonly<Record<string, ResponseObject>> = {
  401: errorAnswer(
    'No access token, or one that is malformed, forged, expired, revoked or for another audience',
    {
      'WWW-Authenticate': textHeader(
        '`Bearer` without a token, else `Bearer error="invalid_token"` (RFC 6750 §3)',
      ),
    },
  ),
  403: errorAnswer('The token lacks the role or scope this call needs', {
    'WWW-Authenticate': textHeader('`Bearer error="insufficient_scope"` (RFC 6750 §3)'),
  }),
  503: errorAnswer('The revocation list is not in sync yet, so no token can be checked; retry later'),
};

// Fastify's body limit and content-type parsers and the global validation pipe answer these
const BODY_ANSWERS: Readonly<Record<string, ResponseObject>> = {
  400: errorAnswer('The body is not valid: a field is missing or malformed, or an unknown field is present'),
  413: errorAnswer('The body is larger than the limit (1 MiB)'),
  415: errorAnswer('The body has a content type this route does not read'),
};

/**
 * Adds what the platform answers on its own to every operation of `document`: on a secured one the
 * guard's 401/403/503, on one with a body the parser's and validation's 400/413/415, and on every
 * answer the `x-request-id` header. A status the route documents itself is kept as it is.
 */
export function addStandardResponses(document: OpenAPIObject): OpenAPIObject {
  document.components = {
    ...document.components,
    headers: {
      ...document.components?.headers,
      [REQUEST_ID_HEADER]: textHeader(
        "The caller's own `x-request-id` when valid (1..128 characters of `[A-Za-z0-9._:-]`), else a new one",
      ),
    },
  };
  for (const operation of operationsOf(document)) {
    if (isSecured(operation)) addMissing(operation, BEARER_ANSWERS);
    if (operation.requestBody !== undefined) addMissing(operation, BODY_ANSWERS);
    for (const answer of Object.values(operation.responses)) {
      if (answer === undefined || '$ref' in answer) continue;
      answer.headers = {
        ...answer.headers,
        [REQUEST_ID_HEADER]: { $ref: `#/components/headers/${REQUEST_ID_HEADER}` },
      };
    }
  }
  return document;
}

/** Whether the operation requires the bearer scheme. */
export function isSecured(operation: OperationObject): boolean {
  return (operation.security ?? []).some((requirement) => BEARER_SCHEME in requirement);
}

function* operationsOf(document: OpenAPIObject): Generator<OperationObject> {
  for (const item of Object.values(document.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (operation !== undefined) yield operation;
    }
  }
}

function addMissing(operation: OperationObject, answers: Readonly<Record<string, ResponseObject>>): void {
  for (const [status, answer] of Object.entries(answers)) {
    // a copy each: the x-request-id header is added per operation
    operation.responses[status] ??= structuredClone(answer);
  }
}
