import {
  Body,
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  type INestApplication,
  Injectable,
  Module,
  Post,
  Req,
  UseGuards,
} from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';

import { createTestIssuer } from '@relay/testing';

import { createHttpAdapter, HTTP_ADAPTERS, type HttpAnswer, httpGet } from '../../test-support/http-adapters';
import { NATS_URL } from '../../test-support/probe-app';
import { AuthModule } from '../auth.module';
import { Public } from '../decorators/public.decorator';
import { CallContext } from './call-context';
import { HttpCallContext } from './http-call-context';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

/** What the guard, the handler and the handler's later (awaited) work each saw of the call context. */
interface Seen {
  guard?: { traceId: string; requestId: string };
  handler?: { traceId: string; requestId: string };
  afterAwait?: Record<string, string>;
  body?: unknown;
}

function ids(): { traceId: string; requestId: string } | undefined {
  const state = CallContext.current();
  return state === undefined ? undefined : { traceId: state.traceId, requestId: state.requestId };
}

// runs after AuthModule's global guard (@Public() here): the call context must already exist
@Injectable()
class RecordingGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    context.switchToHttp().getRequest<{ seenByGuard?: Seen['guard'] }>().seenByGuard = ids();
    return true;
  }
}

async function seen(request: { seenByGuard?: Seen['guard'] }, body?: unknown): Promise<Seen> {
  const handler = ids();
  await new Promise((resolve) => setTimeout(resolve, 5));
  // what an outgoing call would carry, read after an await as a real handler would
  return { guard: request.seenByGuard, handler, afterAwait: CallContext.traceHeaders(), body };
}

// in a module of its own, not AuthModule's importer: the context covers routes of every module
@Public()
@Controller('context')
@UseGuards(RecordingGuard)
class ContextController {
  @Get()
  get(@Req() request: { seenByGuard?: Seen['guard'] }): Promise<Seen> {
    return seen(request);
  }

  @Post()
  post(@Req() request: { seenByGuard?: Seen['guard'] }, @Body() body: unknown): Promise<Seen> {
    return seen(request, body);
  }
}

@Public()
@Controller('health')
@UseGuards(RecordingGuard)
class UnprefixedController {
  @Get()
  get(@Req() request: { seenByGuard?: Seen['guard'] }): Promise<Seen> {
    return seen(request);
  }
}

@Module({ controllers: [ContextController, UnprefixedController], providers: [RecordingGuard] })
class FeatureModule {}

describe.each(HTTP_ADAPTERS)('HttpCallContext on %s', (adapter) => {
  const issuer = createTestIssuer();
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    @Module({
      imports: [
        AuthModule.forRoot({
          issuer: issuer.issuer,
          audience: 'orders',
          natsUrl: NATS_URL,
          serviceName: `call-context-${adapter}`,
        }),
        FeatureModule,
      ],
    })
    class AppModule {}
    app = await NestFactory.create(AppModule, createHttpAdapter(adapter), { logger: false });
    app.setGlobalPrefix('api', { exclude: ['health'] });
    await app.listen(0, '127.0.0.1');
    baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });

  afterAll(async () => {
    await app?.close();
  });

  const traced = { traceparent: TRACEPARENT, 'x-request-id': 'req-ctx-1' };
  const parse = (answer: HttpAnswer): Seen => JSON.parse(answer.body) as Seen;

  it('runs the guard, the handler and its awaited work in one context from the incoming headers', async () => {
    const answer = await httpGet(baseUrl, '/api/context', traced);

    expect(answer.status).toBe(200);
    const view = parse(answer);
    expect(view.guard).toEqual({ traceId: TRACE_ID, requestId: 'req-ctx-1' });
    expect(view.handler).toEqual(view.guard);
    expect(view.afterAwait?.['traceparent']).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    expect(view.afterAwait?.['x-request-id']).toBe('req-ctx-1');
  });

  it('gives each request its own context, and starts ids for a request that sent none', async () => {
    const [first, second] = (
      await Promise.all([httpGet(baseUrl, '/api/context'), httpGet(baseUrl, '/api/context')])
    ).map(parse);

    expect(first.handler?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(first.handler?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.handler?.traceId).not.toBe(first.handler?.traceId);
    expect(second.handler?.requestId).not.toBe(first.handler?.requestId);
  });

  it('ignores a malformed traceparent and request id', async () => {
    const view = parse(
      await httpGet(baseUrl, '/api/context', {
        traceparent: '00-zz-00-01',
        'x-request-id': 'no spaces allowed',
      }),
    );

    expect(view.handler?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(view.handler?.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps the context through a request body read from the socket', async () => {
    const response = await fetch(`${baseUrl}/api/context`, {
      method: 'POST',
      headers: { ...traced, 'content-type': 'application/json' },
      body: JSON.stringify({ padding: 'x'.repeat(90_000) }),
    });
    const view = (await response.json()) as Seen;

    expect(response.status).toBe(201);
    expect((view.body as { padding: string }).padding).toHaveLength(90_000);
    expect(view.guard).toEqual({ traceId: TRACE_ID, requestId: 'req-ctx-1' });
    expect(view.afterAwait?.['x-request-id']).toBe('req-ctx-1');
  });

  it('covers a route excluded from the global prefix', async () => {
    const view = parse(await httpGet(baseUrl, '/health', traced));

    expect(view.guard).toEqual({ traceId: TRACE_ID, requestId: 'req-ctx-1' });
  });

  it('answers x-request-id: the caller’s valid one, else the new one its context carries', async () => {
    const echoed = await httpGet(baseUrl, '/api/context', traced);
    const started = await httpGet(baseUrl, '/api/context', { 'x-request-id': 'no spaces allowed' });

    expect(echoed.headers['x-request-id']).toBe('req-ctx-1');
    expect(started.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(started.headers['x-request-id']).toBe(parse(started).handler?.requestId);
  });

  it('answers x-request-id on an unknown route too', async () => {
    const answer = await httpGet(baseUrl, '/api/nowhere', traced);

    expect(answer.status).toBe(404);
    expect(answer.headers['x-request-id']).toBe('req-ctx-1');
  });

  it('answers an unknown route with Nest’s 404 body', async () => {
    const answer = await httpGet(baseUrl, '/api/nowhere', traced);

    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'Cannot GET /api/nowhere',
    });
  });
});

describe(HttpCallContext.name, () => {
  function hostWith(type: string | undefined): HttpAdapterHost {
    const host = new HttpAdapterHost();
    if (type !== undefined) {
      host.httpAdapter = {
        getType: () => type,
        getInstance: () => ({}),
      } as unknown as HttpAdapterHost['httpAdapter'];
    }
    return host;
  }

  it('refuses to start on an HTTP adapter other than Fastify and Express, naming the one it found', () => {
    expect(() => new HttpCallContext(hostWith('koa')).onModuleInit()).toThrow(
      "@relay/auth needs Nest's Fastify or Express adapter for HTTP (this app uses 'koa')",
    );
  });

  it('does nothing without an HTTP server (microservice-only app, bare testing module)', () => {
    expect(() => new HttpCallContext(hostWith(undefined)).onModuleInit()).not.toThrow();
  });
});
