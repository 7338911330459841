import { connect } from 'node:net';

import { Body, Controller, Get, type LoggerService, Module, Param, Post } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

import { DatabaseUnavailableError } from '@relay/database';

import { BODY_LIMIT_BYTES, createServiceApp, MAX_BODY_DEPTH } from './service-app';

@Controller('echo')
class EchoController {
  @Post()
  echo(@Body() body: unknown): unknown {
    return body;
  }

  @Post('json')
  echoJson(@Body() body: unknown): unknown {
    return body;
  }

  @Post('fail')
  fail(): never {
    throw new Error('the handler failed');
  }

  @Post('database-down')
  databaseDown(): never {
    throw new DatabaseUnavailableError(
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    );
  }

  @Get(':id')
  find(@Param('id') id: string): unknown {
    return { id };
  }
}

/** The messages logged at error level (Nest's exception handler logs through the app's logger). */
class ErrorLines implements LoggerService {
  readonly lines: string[] = [];

  error(message: unknown): void {
    this.lines.push(message instanceof Error ? message.message : String(message));
  }

  log(): void {
    // only errors are asked about
  }

  warn(): void {
    // only errors are asked about
  }
}

@Module({ controllers: [EchoController] })
class EchoModule {}

async function startEcho(formBodyRoutes?: string[]): Promise<NestFastifyApplication> {
  // NATS is only contacted by startAllMicroservices(), which these specs never call.
  const app = await createServiceApp(EchoModule, {
    name: 'service-app-spec',
    natsUrl: 'nats://127.0.0.1:1',
    logLevel: 'error',
    ...(formBodyRoutes === undefined ? {} : { formBodyRoutes }),
  });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

const json = { 'content-type': 'application/json' };

const FAILING = Symbol('failing');

/** An app whose database cannot be opened: its provider fails while the app is built. */
@Module({
  providers: [
    {
      provide: FAILING,
      useFactory: () => {
        throw Object.assign(new Error('the data directory is held by process 4242'), {
          detail: 'Key (email)=(someone@example.com) already exists.',
        });
      },
    },
  ],
})
class FailingModule {}

describe(createServiceApp.name, () => {
  // runService then says it in one line of the service's log format; Nest would print the error whole
  // (its detail too) and exit the process
  it('rejects with the error of a provider that fails while the app is built, printing nothing', async () => {
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await expect(
        createServiceApp(FailingModule, { name: 'failing', natsUrl: 'nats://127.0.0.1:1', logLevel: 'info' }),
      ).rejects.toThrow('the data directory is held by process 4242');

      const printed = [...stderr.mock.calls, ...stdout.mock.calls].map(([chunk]) => String(chunk)).join('');
      expect(printed).not.toContain('someone@example.com');
      expect(printed).not.toContain('held by process 4242');
    } finally {
      stderr.mockRestore();
      stdout.mockRestore();
    }
  });

  describe('by default (JSON only)', () => {
    let app: NestFastifyApplication;

    beforeAll(async () => {
      app = await startEcho();
    });

    afterAll(async () => {
      await app.close();
    });

    it('accepts a JSON body', async () => {
      const reply = await app.inject({ method: 'POST', url: '/echo', payload: { a: 1 } });

      expect(reply.statusCode).toBe(201);
      expect(reply.json()).toEqual({ a: 1 });
    });

    it.each([
      ['text/plain', 'hello'],
      ['application/x-www-form-urlencoded', 'a=1'],
    ])('answers 415 to a %s body', async (contentType, payload) => {
      const reply = await app.inject({
        method: 'POST',
        url: '/echo',
        headers: { 'content-type': contentType },
        payload,
      });

      expect(reply.statusCode).toBe(415);
    });

    // a body nested some thousands deep overflowed the validation pipe's recursion (a 500)
    it('answers 400 to a body nested deeper than the limit, and takes one at the limit', async () => {
      const nested = (depth: number): string => `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`;

      const tooDeep = await app.inject({
        method: 'POST',
        url: '/echo',
        headers: json,
        payload: nested(5000),
      });
      const atLimit = await app.inject({
        method: 'POST',
        url: '/echo',
        headers: json,
        payload: nested(MAX_BODY_DEPTH - 1),
      });

      expect(tooDeep.statusCode).toBe(400);
      expect(tooDeep.json()).toMatchObject({
        message: `JSON may be nested ${MAX_BODY_DEPTH} levels deep at most`,
      });
      expect(atLimit.statusCode).toBe(201);
    });

    // PostgreSQL refuses NUL in text: the statement failed, as a 500
    it.each([
      { case: 'a body value', url: '/echo', payload: '{"email":"a\\u0000@example.com"}' },
      { case: 'a body key', url: '/echo', payload: '{"a\\u0000":1}' },
      { case: 'a path parameter', url: '/echo/a%00b', payload: undefined },
      { case: 'a query parameter', url: '/echo/a?email=%00', payload: undefined },
    ])('answers 400 to a NUL character in $case', async ({ url, payload }) => {
      const reply = await app.inject({
        method: payload === undefined ? 'GET' : 'POST',
        url,
        ...(payload === undefined ? {} : { headers: json, payload }),
      });

      expect(reply.statusCode).toBe(400);
      expect(reply.json()).toMatchObject({ message: 'Text may not contain NUL characters' });
    });

    // Fastify answers these before any hook: by default with the URL (a token may be in its query) and
    // without x-request-id (CONTRACT: every response carries one; none contains a token)
    it.each([
      { case: 'a bad percent-escape', url: '/echo/%zz', status: 400 },
      { case: 'a path parameter over its length limit', url: `/echo/${'x'.repeat(200)}`, status: 414 },
    ])('answers $status to $case without echoing the URL, with a request id', async ({ url, status }) => {
      const secret = 'eyJhbGciOiJFUzI1NiJ9.c2VjcmV0.c2ln';

      const fresh = await app.inject({ method: 'GET', url: `${url}?access_token=${secret}` });
      const continued = await app.inject({
        method: 'GET',
        url: `${url}?access_token=${secret}`,
        headers: { 'x-request-id': 'caller-id-1' },
      });

      expect(fresh.statusCode).toBe(status);
      expect(fresh.body).not.toContain(secret);
      expect(fresh.body).not.toContain(url.slice(0, 12));
      expect(fresh.json()).toEqual({
        statusCode: status,
        error: expect.any(String),
        message: expect.any(String),
      });
      expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(continued.headers['x-request-id']).toBe('caller-id-1');
    });

    it('answers 413 to a body over the limit', async () => {
      const reply = await app.inject({
        method: 'POST',
        url: '/echo',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ a: 'x'.repeat(BODY_LIMIT_BYTES) }),
      });

      expect(reply.statusCode).toBe(413);
    });

    // a client's mistake is the client's: an error line with a stack for each one made every bad
    // request an alert, and let anyone fill the error log. The access line records its status.
    it('logs no error for a client error, and still logs a failing handler', async () => {
      const errors = new ErrorLines();
      app.useLogger(errors);
      // the app buffers its lines until listen(), which these specs never call
      app.flushLogs();
      const post = (headers: Record<string, string>, payload: string) =>
        app.inject({ method: 'POST', url: '/echo', headers, payload });

      const replies = [
        await post({ 'content-type': 'text/plain' }, 'hello'),
        await post({ 'content-type': 'application/x-www-form-urlencoded' }, 'a=1'),
        await post(json, `{"a":${'['.repeat(100)}${']'.repeat(100)}}`),
        await post(json, '{"a":"\\u0000"}'),
        await post(json, '{"a": nope}'),
        await post(json, JSON.stringify({ a: 'x'.repeat(BODY_LIMIT_BYTES) })),
      ];
      const failed = await app.inject({ method: 'POST', url: '/echo/fail', headers: json, payload: '{}' });
      // the database layer logs an outage once; each call of it is a 503, not an error line
      const unavailable = await app.inject({
        method: 'POST',
        url: '/echo/database-down',
        headers: json,
        payload: '{}',
      });

      expect(replies.map((reply) => reply.statusCode)).toEqual([415, 415, 400, 400, 400, 413]);
      for (const reply of replies) {
        expect(reply.json()).toMatchObject({ statusCode: reply.statusCode, message: expect.any(String) });
      }
      expect(failed.statusCode).toBe(500);
      expect(unavailable.statusCode).toBe(503);
      expect(unavailable.json()).toMatchObject({ message: 'The database is unavailable; retry later' });
      expect(errors.lines).toEqual(['the handler failed']);
    });
  });

  // Node's parser refuses these before Fastify runs: its answer lacked x-request-id (CONTRACT: every
  // response carries one)
  describe('on a socket', () => {
    let app: NestFastifyApplication;
    let port: number;

    beforeAll(async () => {
      app = await startEcho();
      await app.listen(0, '127.0.0.1');
      port = Number(new URL(await app.getUrl()).port);
    });

    afterAll(async () => {
      await app.close();
    });

    function rawRequest(request: string): Promise<string> {
      return new Promise((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.end(request));
        let answer = '';
        socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
        socket.on('close', () => resolve(answer));
        socket.on('error', reject);
      });
    }

    it.each([
      { case: 'headers over 16 KiB', header: `x-filler: ${'f'.repeat(20_000)}`, status: '431' },
      { case: 'a control character in a header', header: 'x-request-id: a\u0001b', status: '400' },
    ])('answers $case with $status and a request id', async ({ header, status }) => {
      const answer = await rawRequest(`GET /echo/1 HTTP/1.1\r\nHost: x\r\n${header}\r\n\r\n`);

      expect(answer).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
      expect(answer).toMatch(/\r\nx-request-id: [0-9a-f-]{36}\r\n/);
    });
  });

  describe('with a form body route', () => {
    let app: NestFastifyApplication;

    beforeAll(async () => {
      app = await startEcho(['/echo']);
    });

    afterAll(async () => {
      await app.close();
    });

    it('parses a form-encoded body on that route, a repeated parameter as a list', async () => {
      const reply = await app.inject({
        method: 'POST',
        url: '/echo',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'grant_type=client_credentials&scope=a+b&scope=c',
      });

      expect(reply.statusCode).toBe(201);
      expect(reply.json()).toEqual({ grant_type: 'client_credentials', scope: ['a b', 'c'] });
    });

    // curl -d '{"password":"…"}' sends JSON as a form: one field named by the whole text
    it('answers 415 to a form body on any other route, echoing nothing of it', async () => {
      const secret = '{"email":"a@example.com","password":"CorrectHorse9"}';
      const reply = await app.inject({
        method: 'POST',
        url: '/echo/json',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: secret,
      });

      expect(reply.statusCode).toBe(415);
      expect(reply.body).not.toContain('CorrectHorse9');
    });

    it('still answers 415 to text/plain', async () => {
      const reply = await app.inject({
        method: 'POST',
        url: '/echo',
        headers: { 'content-type': 'text/plain' },
        payload: 'hello',
      });

      expect(reply.statusCode).toBe(415);
    });
  });
});
