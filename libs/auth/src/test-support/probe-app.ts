import { Body, Controller, Get, type INestApplication, Module, Post, type Type } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, type NatsContext, Payload } from '@nestjs/microservices';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';

import {
  AuthModule,
  type AuthModuleOptions,
  CallContext,
  CurrentPrincipal,
  natsMicroserviceOptions,
  type Principal,
  Public,
  RelayHttpClient,
  RelayNatsClient,
  Roles,
  Scopes,
} from '../index';
import { createHttpAdapter, type HttpAdapterName, type HttpAnswer, httpGet } from './http-adapters';

export const NATS_URL = process.env['RELAY_TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';

/** What a probe handler saw of its call. */
export interface ProbeView {
  subject?: string;
  token?: string;
  traceId?: string;
  requestId?: string;
  traceparent?: string;
  tracestate?: string;
  authorization?: string;
  actor?: string;
  audience?: readonly string[];
}

/** Where a probe app's `forward` / `fetch` handlers call (default: its own NATS prefix). */
export interface ProbeTargets {
  /** NATS prefix of the app the `forward` handlers call. */
  forwardPrefix?: string;
  /** Base URL of the app `GET /probe/fetch` calls (its `/probe` route), audience `inventory`. */
  fetchUrl?: () => string;
  /** Listen on a real HTTP port (then `ProbeApp.url` is set). Always on Express. */
  listen?: boolean;
  /** Nest's HTTP adapter. Default: `'fastify'`. */
  adapter?: HttpAdapterName;
}

/** A hybrid (HTTP + NATS) Nest app wired exactly as the Relay apps are, with probe handlers. */
export interface ProbeApp {
  app: INestApplication;
  adapter: HttpAdapterName;
  prefix: string;
  /** `http://127.0.0.1:<port>` when started with `listen` (always on Express). */
  url?: string;
  events: { subject?: string; data: unknown }[];
  /** `GET path`: Fastify's `inject` (no socket), a real request on Express. */
  http(path: string, headers?: Record<string, string>): Promise<HttpAnswer>;
  close(): Promise<void>;
}

function view(principal: Principal | undefined, natsContext?: NatsContext): ProbeView {
  const state = CallContext.current();
  const headers = natsContext?.getHeaders() as
    | { get(name: string): string; has(name: string): boolean }
    | undefined;
  return {
    subject: principal?.subject,
    token: state?.token,
    traceId: state?.traceId,
    requestId: state?.requestId,
    traceparent: headers?.get('traceparent'),
    tracestate: headers?.has('tracestate') ? headers.get('tracestate') : undefined,
    authorization: headers?.get('authorization'),
    actor: principal?.actor,
    audience: principal?.audience,
  };
}

function probeControllers(prefix: string, events: ProbeApp['events'], targets: ProbeTargets): Type[] {
  const forwardPrefix = targets.forwardPrefix ?? prefix;
  @Controller('probe')
  class ProbeController {
    constructor(
      private readonly relay: RelayNatsClient,
      private readonly httpClient: RelayHttpClient,
    ) {}

    @Get()
    get(@CurrentPrincipal() principal: Principal): ProbeView {
      return view(principal);
    }

    @Get('admin')
    @Roles('admin')
    admin(@CurrentPrincipal() principal: Principal): ProbeView {
      return view(principal);
    }

    @Get('scoped')
    @Scopes('inventory:write')
    scoped(@CurrentPrincipal() principal: Principal): ProbeView {
      return view(principal);
    }

    @Public()
    @Get('public')
    open(@CurrentPrincipal() principal: Principal | undefined): ProbeView {
      return view(principal);
    }

    @Get('forward')
    forward(): Promise<ProbeView> {
      return this.relay.send<ProbeView>(`${forwardPrefix}.echo`, {});
    }

    // after Fastify has read a request body: the call context must have survived the body's callbacks
    @Post('forward')
    async forwardWithBody(@Body() body: unknown): Promise<{ body: unknown; downstream: ProbeView }> {
      return { body, downstream: await this.relay.send<ProbeView>(`${forwardPrefix}.echo`, {}) };
    }

    @Get('fetch')
    async fetch(): Promise<{ status: number; body: unknown }> {
      const response = await this.httpClient.fetch(`${targets.fetchUrl?.() ?? ''}/probe`, {
        audience: 'inventory',
      });
      return { status: response.status, body: await response.json() };
    }
  }

  // @Public() on the controller, @Roles() on one handler: the handler still needs a caller
  @Public()
  @Controller('probe/open')
  class OpenProbeController {
    @Get()
    open(@CurrentPrincipal() principal: Principal | undefined): ProbeView {
      return view(principal);
    }

    @Get('admin')
    @Roles('admin')
    admin(@CurrentPrincipal() principal: Principal): ProbeView {
      return view(principal);
    }
  }

  @Controller()
  class ProbeRpcController {
    constructor(private readonly relay: RelayNatsClient) {}

    @MessagePattern(`${prefix}.probe`)
    probe(@CurrentPrincipal() principal: Principal, @Ctx() context: NatsContext): ProbeView {
      return view(principal, context);
    }

    @MessagePattern(`${prefix}.admin`)
    @Roles('admin')
    admin(@CurrentPrincipal() principal: Principal, @Ctx() context: NatsContext): ProbeView {
      return view(principal, context);
    }

    @MessagePattern(`${prefix}.echo`)
    echo(@CurrentPrincipal() principal: Principal, @Ctx() context: NatsContext): ProbeView {
      return view(principal, context);
    }

    @MessagePattern(`${prefix}.forward`)
    forward(): Promise<ProbeView> {
      return this.relay.send<ProbeView>(`${forwardPrefix}.echo`, {});
    }

    @Public()
    @MessagePattern(`${prefix}.slow`)
    async slow(): Promise<string> {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return 'late';
    }

    @EventPattern(`${prefix}.event`)
    event(@Payload() data: unknown, @CurrentPrincipal() principal: Principal): void {
      events.push({ subject: principal.subject, data });
    }
  }
  return [ProbeController, OpenProbeController, ProbeRpcController];
}

/**
 * Starts a probe app: HTTP via Fastify's `inject` or, on Express, a real port; NATS on the real server
 * under a unique subject prefix. It imports `AuthModule` and nothing else of auth: the guard and the
 * filter come with it.
 */
export async function startProbeApp(
  options: AuthModuleOptions,
  prefix: string,
  targets: ProbeTargets = {},
): Promise<ProbeApp> {
  const adapter = targets.adapter ?? 'fastify';
  const listen = targets.listen === true || adapter === 'express';
  const events: ProbeApp['events'] = [];
  @Module({ controllers: probeControllers(prefix, events, targets) })
  class ProbeModule {}

  const moduleRef = await Test.createTestingModule({
    imports: [AuthModule.forRoot(options), ProbeModule],
  }).compile();
  const app = moduleRef.createNestApplication(createHttpAdapter(adapter), { logger: false });
  app.connectMicroservice(natsMicroserviceOptions({ url: options.natsUrl, name: options.serviceName }), {
    inheritAppConfig: true,
  });
  await app.init();
  await app.startAllMicroservices();
  if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  if (listen) await app.listen(0, '127.0.0.1');
  const url = listen ? (await app.getUrl()).replace('[::1]', '127.0.0.1') : undefined;
  return {
    app,
    adapter,
    prefix,
    ...(url === undefined ? {} : { url }),
    events,
    http: async (path, headers = {}) => {
      if (url !== undefined && adapter === 'express') return httpGet(url, path, headers);
      const response = await (app as NestFastifyApplication).inject({ method: 'GET', url: path, headers });
      return { status: response.statusCode, headers: stringHeaders(response.headers), body: response.body };
    },
    close: () => app.close(),
  };
}

function stringHeaders(headers: Record<string, unknown>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, value?.toString()]));
}
