import type { IncomingMessage } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';

import { BadRequestException, Logger, type Type } from '@nestjs/common';
import { ModuleRef, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest, FastifyServerOptions } from 'fastify';
import { Logger as PinoNestLogger } from 'nestjs-pino';

import { natsMicroserviceOptions, relayFastifyOptions } from '@relay/auth';
import { type BaseAppConfig, nestLogLevels } from '@relay/config';
import { installOpenApi } from '@relay/observability';

/** Largest accepted HTTP body in every Relay app; a larger one is answered 413. */
export const BODY_LIMIT_BYTES = 1_048_576;

// After a 413 the rest of the body is read and dropped (up to this much, for at most this long)
// before the connection may close: closing with unread bytes resets it, and a client still sending
// (fetch, curl) loses the answer. nginx's lingering close does the same.
const LINGER_MAX_BYTES = 64 * BODY_LIMIT_BYTES;

/**
 * Deepest JSON body accepted: Nest's ValidationPipe walks a body recursively, and a 10 kB body nested
 * some thousands deep overflows its stack (a 500). No Relay body comes near this.
 */
export const MAX_BODY_DEPTH = 32;
const LINGER_MAX_MS = 5000;

/** How {@link createServiceApp} builds one Relay service. */
export interface ServiceAppOptions {
  /** Service name: the NATS connection name, queue group and reply-inbox prefix (`_INBOX_<name>`). */
  name: string;
  natsUrl: string;
  /** `NATS_TLS_CA_FILE`: set, TLS is required. */
  natsTlsCaFile?: string;
  /** `NATS_NKEY_SEED_FILE`: this service's identity on the bus. */
  natsNkeySeedFile?: string;
  logLevel: BaseAppConfig['LOG_LEVEL'];
  /** Fastify adapter. Default: {@link createServiceHttpAdapter}'s. */
  adapter?: FastifyAdapter;
  /**
   * Routes (as declared, e.g. `/oauth/token`) that also take `application/x-www-form-urlencoded`
   * bodies: auth's token endpoint (RFC 6749). Every other route answers a form body with 415, as it
   * does any content type but JSON, so a JSON text sent as a form (curl's default) never becomes a
   * field name that a 400 would echo, password and all. Default: none.
   */
  formBodyRoutes?: readonly string[];
}

/**
 * The Fastify adapter of a Relay service: bodies up to {@link BODY_LIMIT_BYTES}, and `@relay/auth`'s
 * answers to the URLs Fastify cannot route and the requests Node's parser refuses (nothing of the
 * request echoed, a request id on each: `relayFastifyOptions`). `options` adds to them (auth's `trustProxy`).
 */
export function createServiceHttpAdapter(
  options: Pick<FastifyServerOptions, 'trustProxy'> = {},
): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    ...relayFastifyOptions(),
    ...options,
  });
}

/**
 * Why a request's body, path parameters or query cannot be taken, before validation: nested deeper
 * than {@link MAX_BODY_DEPTH}, or a NUL character anywhere (PostgreSQL refuses one in text, and the
 * statement would fail as a 500). Walked without recursion.
 */
function inputProblem(...inputs: unknown[]): string | undefined {
  const pending: Array<{ value: unknown; depth: number }> = inputs.map((value) => ({ value, depth: 0 }));
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, depth } = next;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return 'Text may not contain NUL characters';
    } else if (typeof value === 'object' && value !== null) {
      if (depth > MAX_BODY_DEPTH) return `JSON may be nested ${MAX_BODY_DEPTH} levels deep at most`;
      for (const [key, child] of Object.entries(value)) {
        pending.push({ value: key, depth }, { value: child, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

// an HttpException: Nest's exception handler answers any other error with a status as the client's
// mistake too, but logs it at error level with its stack, one line per bad request anyone sends
function badRequest(message: string): Error {
  return new BadRequestException(message);
}

function unsupportedMediaType(): Error {
  return Object.assign(new Error('Unsupported Media Type: application/x-www-form-urlencoded'), {
    statusCode: 415,
    code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
  });
}

/**
 * A Relay service on Fastify with its NATS listener attached (inheriting the app's global guards,
 * interceptors, filters and pipes), not yet initialised. `main.ts` and integration specs share it,
 * so both run the same HTTP and NATS wiring.
 */
export async function createServiceApp(
  appModule: Type<unknown>,
  options: ServiceAppOptions,
): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    appModule,
    options.adapter ?? createServiceHttpAdapter(),
    // bodyParser false: only Fastify's own JSON parser (bodyLimit, 400 on "__proto__"), no
    // urlencoded parser from Nest; with text/plain removed too, any other body type is a 415.
    // abortOnError false: a provider that fails while the app is built (its database, its data
    // directory's lock) rejects here, for runService's one line, instead of Nest printing the error
    // whole (any property of it: a pg error's `detail` quotes the row) and exiting. Nest still logs
    // it into the buffer (autoFlushLogs false: not printed), which is dropped then
    {
      bufferLogs: true,
      logger: nestLogLevels(options.logLevel),
      bodyParser: false,
      abortOnError: false,
      autoFlushLogs: false,
    },
  ).catch((error: unknown) => {
    dropBufferedLogs();
    throw error;
  });
  useServiceLogger(app);
  app.flushLogs();
  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeContentTypeParser('text/plain');
  fastify.addHook('preValidation', (request, _reply, done) => {
    const problem = inputProblem(request.body, request.params, request.query);
    done(problem === undefined ? undefined : badRequest(problem));
  });
  const formBodyRoutes = new Set(options.formBodyRoutes ?? []);
  if (formBodyRoutes.size > 0) {
    fastify.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (
        request: FastifyRequest,
        body: string | Buffer,
        done: (error: Error | null, body?: unknown) => void,
      ) => {
        if (!formBodyRoutes.has(request.routeOptions.url ?? '')) return done(unsupportedMediaType());
        // a null-prototype object; a repeated parameter becomes an array, for the route to refuse
        done(null, parseQueryString(body.toString()));
      },
    );
  }
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (reply.statusCode === 413 && !request.raw.complete) lingerOverBody(request.raw, reply);
    done(null, payload);
  });
  app.connectMicroservice(
    natsMicroserviceOptions({
      url: options.natsUrl,
      name: options.name,
      tlsCaFile: options.natsTlsCaFile,
      nkeySeedFile: options.natsNkeySeedFile,
    }),
    { inheritAppConfig: true },
  );
  installOpenApi(app, options.name);
  return app;
}

// Nest's buffer of what was logged while an app was built: a later app of the process would print it
function dropBufferedLogs(): void {
  Logger.detachBuffer();
  (Logger as unknown as { logBuffer: unknown[] }).logBuffer = [];
}

/**
 * Nest's own lines and every `new Logger(context)` go through the app's pino logger (the
 * `ObservabilityModule`'s), starting with those buffered while the app was built. An app without
 * that module (a bare spec module) keeps Nest's console logger, which prints the buffer once the app
 * is built.
 */
function useServiceLogger(app: NestFastifyApplication): void {
  let logger: PinoNestLogger;
  try {
    // through ModuleRef: app.get() would log Nest's error first on an app without the logger
    logger = app.get(ModuleRef).get(PinoNestLogger, { strict: false });
  } catch {
    return;
  }
  app.useLogger(logger);
}

// Fastify answers 413 with `connection: close`, and Node then closes with the body unread; instead the
// response keeps the connection, Node drains the body (as it does for any unread one) and this bounds it
function lingerOverBody(request: IncomingMessage, reply: { removeHeader(name: string): unknown }): void {
  reply.removeHeader('connection');
  let drained = 0;
  const stop = (): void => {
    clearTimeout(timer);
    request.socket.destroy();
  };
  const timer = setTimeout(stop, LINGER_MAX_MS);
  timer.unref();
  request.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > LINGER_MAX_BYTES) stop();
  });
  request.once('end', () => clearTimeout(timer));
  request.once('close', () => clearTimeout(timer));
}

/** What every service's environment has besides its own variables. */
export type ServiceConfig = Pick<
  BaseAppConfig,
  | 'NATS_URL'
  | 'NATS_TLS_CA_FILE'
  | 'NATS_NKEY_SEED_FILE'
  | 'LOG_LEVEL'
  | 'LOG_FORMAT'
  | 'DATABASE_URL'
  | 'LISTEN_ADDRESS'
> & { PORT: number };

/** The bus options of {@link createServiceApp} from a service's validated environment. */
export function natsOptionsFrom(
  config: ServiceConfig,
): Pick<ServiceAppOptions, 'natsUrl' | 'natsTlsCaFile' | 'natsNkeySeedFile'> {
  return {
    natsUrl: config.NATS_URL,
    natsTlsCaFile: config.NATS_TLS_CA_FILE,
    natsNkeySeedFile: config.NATS_NKEY_SEED_FILE,
  };
}
