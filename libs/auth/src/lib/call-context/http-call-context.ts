import type { IncomingMessage, ServerResponse } from 'node:http';

import { Injectable, type MiddlewareConsumer, type OnModuleInit, RequestMethod } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';

import { MessageHeaders } from '@relay/contracts';

import { CallContext, type CallHandle, type IncomingCall } from './call-context';

/**
 * Every path (`/` too), every method: Nest registers it for the global prefix and the routes excluded
 * from it. A named wildcard, as Express 5's path-to-regexp wants (a bare `*` is converted with a warning).
 */
const EVERY_ROUTE = { path: '{*path}', method: RequestMethod.ALL };

/**
 * The transport edge of an HTTP call: each request's guards, pipes, handler and filters run inside
 * its own `CallContext`, on either of Nest's HTTP adapters.
 *
 * Fastify: the call begins in `onRequest` (its span times the whole request, the request id is
 * answered on every response), runs from `preHandler` on (once the route is found and the body read,
 * so the context never depends on how the body parser carries async context) and ends in `onResponse`.
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
      fastify.addHook('onRequest', beginRequest);
      fastify.addHook('preHandler', runInCallContext);
      fastify.addHook('onResponse', endRequest);
      fastify.addHook('onRequestAbort', abortRequest);
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

const calls = new WeakMap<object, CallHandle>();

/** The status of a request whose client closed the connection before the answer (nginx's 499). */
const CLIENT_CLOSED_REQUEST = 499;

/**
 * Fastify `onRequest`: the call begins (its server span, named by the route's template) and every
 * answer, an unknown route's and a refused body's included, carries the request id (the caller's valid
 * one, else a new one).
 */
function beginRequest(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const call = CallContext.begin(incomingHttpCall(request.raw, request.routeOptions.url));
  calls.set(request, call);
  reply.header(MessageHeaders.requestId, call.requestId);
  done();
}

/** Fastify `preHandler`: guards, pipes, handler and filters run inside the call. */
function runInCallContext(
  request: FastifyRequest,
  _reply: FastifyReply,
  done: HookHandlerDoneFunction,
): void {
  const call = calls.get(request);
  if (call === undefined) done();
  else CallContext.enter(call, done);
}

/** Fastify `onRequestAbort`: the client gave up before the answer; the call ends as 499 (nginx's code). */
function abortRequest(request: FastifyRequest, done: HookHandlerDoneFunction): void {
  const call = calls.get(request);
  if (call !== undefined) CallContext.end(call, CLIENT_CLOSED_REQUEST);
  done();
}

/** Fastify `onResponse`: the call ends with the status sent. */
function endRequest(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const call = calls.get(request);
  if (call !== undefined) CallContext.end(call, reply.statusCode);
  done();
}

// the same as the Fastify hooks, from the same Node request headers; the request id is answered on
// every response that reaches Nest's middleware (every route and unknown path). Express knows the
// matched route only once it has run, so the name is completed at the end.
function runExpressRequestInCallContext(
  request: IncomingMessage & { route?: { path?: string }; baseUrl?: string },
  response: ServerResponse,
  next: () => void,
): void {
  const call = CallContext.begin(incomingHttpCall(request, undefined));
  response.setHeader(MessageHeaders.requestId, call.requestId);
  // `close` follows `finish`, and comes alone when the client gave up first (499)
  response.once('close', () =>
    CallContext.end(
      call,
      response.writableFinished ? response.statusCode : CLIENT_CLOSED_REQUEST,
      spanName(request.method, expressRoute(request)),
    ),
  );
  CallContext.enter(call, next);
}

function incomingHttpCall(request: IncomingMessage, route: string | undefined): IncomingCall {
  return {
    transport: 'http',
    name: spanName(request.method, route),
    traceparent: single(request.headers[MessageHeaders.traceparent]),
    tracestate: single(request.headers[MessageHeaders.tracestate]),
    requestId: single(request.headers[MessageHeaders.requestId]),
    attributes: {
      'http.request.method': request.method ?? 'GET',
      ...(route === undefined ? {} : { 'http.route': route }),
    },
  };
}

// OpenTelemetry's HTTP server span name: the method and the route's template, never the path's ids
function spanName(method: string | undefined, route: string | undefined): string {
  return route === undefined ? (method ?? 'HTTP') : `${method ?? 'HTTP'} ${route}`;
}

function expressRoute(request: { route?: { path?: string }; baseUrl?: string }): string | undefined {
  const path = request.route?.path;
  return typeof path === 'string' ? `${request.baseUrl ?? ''}${path}` : undefined;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
