import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';

import { MessageHeaders } from '@relay/contracts';

import { CallContext } from './call-context';

/**
 * The transport edge of an HTTP call: a Fastify `preHandler` hook runs the rest of each request
 * (guards, pipes, handler, filters) inside its own `CallContext`. `preHandler` runs once the route is
 * found and the body read, so unknown routes cost nothing and the context never depends on how the body
 * parser carries async context. (An interceptor could do the same job, at several times the cost per
 * request: Nest wraps every interceptor call in `AsyncResource.bind` and rxjs.)
 */
@Injectable()
export class HttpCallContext implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter as HttpAdapterHost['httpAdapter'] | undefined;
    // no HTTP server: a microservice-only app or a bare testing module
    if (adapter === undefined || adapter === null) return;
    if (adapter.getType() !== 'fastify') {
      throw new Error(
        `@relay/auth needs Nest's Fastify adapter for HTTP (this app uses '${adapter.getType()}')`,
      );
    }
    adapter.getInstance<FastifyInstance>().addHook('preHandler', runInCallContext);
  }
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

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
