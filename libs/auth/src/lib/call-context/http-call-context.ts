import type { IncomingMessage, ServerResponse } from 'node:http';

import { Injectable, type MiddlewareConsumer, type OnModuleInit, RequestMethod } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';

import { MessageHeaders } from '@relay/contracts';

import { CallContext } from './call-context';
import { continueRequestId } from './trace-context';

/**
 * Every path (`/` too), every method: Nest registers it for the global prefix and the routes excluded
 * from it. A named wildcard, as Express 5's path-to-regexp wants (a bare `*` is converted with a warning).
 */
const EVERY_ROUTE = { path: '{*path}', method: RequestMethod.ALL };

/**
 * The transport edge of an HTTP call: each request's guards, pipes, handler and filters run inside
 * its own `CallContext`, on either of Nest's HTTP adapters.
 *
 * Fastify: a `preHandler` hook. It runs once the route is found and the body read, so unknown routes
 * cost nothing and the context never depends on how the body parser carries async context.
 *
 * Express: a middleware on every path, registered through Nest's `MiddlewareConsumer`: Nest places it
 * after its body parsers (the body is read before the context starts, as on Fastify) and before any
 * route of any module, and it calls the rest of the chain synchronously inside the context, so the
 * guard, the handler and the calls it makes all see it. (`app.use()` from a lifecycle hook would come
 * after the routes; from a constructor, before the body parsers.)
 *
 * An interceptor could do the same job, at several times the cost per request: Nest wraps every
 * interceptor call in `AsyncResource.bind` and rxjs.
 */
@Injectable()
export class HttpCallContext implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /** Called from `AuthModule.configure()`, before Nest registers any route. */
  configure(consumer: MiddlewareConsumer): void {
    if (this.adapterType() === 'express') {
      consumer.apply(runExpressRequestInCallContext).forRoutes(EVERY_ROUTE);
    }
  }

  onModuleInit(): void {
    const type = this.adapterType();
    if (type === 'fastify') {
      const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
      fastify.addHook('onRequest', answerRequestId);
      fastify.addHook('preHandler', runInCallContext);
    } else if (type !== undefined && type !== 'express') {
      throw new Error(
        `@relay/auth needs Nest's Fastify or Express adapter for HTTP (this app uses '${type}')`,
      );
    }
  }

  /** The HTTP adapter's type, or `undefined` without an HTTP server (a microservice-only app or a bare testing module). */
  private adapterType(): string | undefined {
    const adapter = this.adapterHost.httpAdapter as HttpAdapterHost['httpAdapter'] | undefined;
    return adapter === undefined || adapter === null ? undefined : adapter.getType();
  }
}

/**
 * Fastify `onRequest`: every answer, an unknown route's and a refused body's included, carries the
 * request id (the caller's valid one, else a new one). The request's header is set to the same id,
 * so the call context that `preHandler` starts continues it.
 */
function answerRequestId(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const requestId = continueRequestId(single(request.headers[MessageHeaders.requestId]));
  request.headers[MessageHeaders.requestId] = requestId;
  reply.header(MessageHeaders.requestId, requestId);
  done();
}

function runInCallContext(
  request: FastifyRequest,
  _reply: FastifyReply,
  done: HookHandlerDoneFunction,
): void {
  CallContext.run(
    {
      traceparent: single(request.headers[MessageHeaders.traceparent]),
      requestId: single(request.headers[MessageHeaders.requestId]),
    },
    done,
  );
}

// the same headers as the Fastify hooks, read from the same Node request headers; the request id is
// answered on every response that reaches Nest's middleware (every route and unknown path)
function runExpressRequestInCallContext(
  request: IncomingMessage,
  response: ServerResponse,
  next: () => void,
): void {
  const requestId = continueRequestId(single(request.headers[MessageHeaders.requestId]));
  response.setHeader(MessageHeaders.requestId, requestId);
  CallContext.run({ traceparent: single(request.headers[MessageHeaders.traceparent]), requestId }, next);
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
