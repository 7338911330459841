import { randomUUID } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';

import { Controller, Get, Headers, Logger, Module, Param } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger as PinoNestLogger } from 'nestjs-pino';

import { AuthModule, CALL_FINISHED_CHANNEL, natsMicroserviceOptions, Public } from '@relay/auth';
import { createTestIssuer, type JwksServer, NatsTestClient } from '@relay/testing';

import { LogCapture } from './log-capture';
import { LoggingModule } from './logging.module';
import { REDACTED } from './redaction';

const NATS_URL = process.env['RELAY_TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;
const PREFIX = `logging-spec.${randomUUID().slice(0, 8)}`;
const BUCKET = `relay-revocations-test-${randomUUID().slice(0, 8)}`;

@Controller('things')
class ThingsController {
  private readonly logger = new Logger('Things');

  @Get(':id')
  get(@Param('id') id: string, @Headers('authorization') authorization: string): { id: string } {
    // a careless line: the header must come out redacted
    this.logger.log({ thing: id, authorization }, 'Looked up a thing');
    return { id };
  }

  @MessagePattern(`${PREFIX}.thing`)
  rpc(@Payload() data: { id: string }): { id: string } {
    this.logger.log({ thing: data.id, password: 'hunter2-hunter2' }, 'Looked up a thing on the bus');
    return { id: data.id };
  }
}

@Public()
@Controller('health')
class HealthController {
  // as @relay/health serves them: readiness at two paths, liveness at one
  @Get(['ready', '', 'live'])
  health(): { status: string } {
    return { status: 'ok' };
  }
}

type Line = Record<string, unknown>;

describe('LoggingModule in a Relay app (HTTP and NATS)', () => {
  const issuer = createTestIssuer();
  const capture = new LogCapture();
  let jwks: JwksServer;
  let nats: NatsTestClient;
  let app: NestFastifyApplication;
  let closed = false;

  beforeAll(async () => {
    jwks = await issuer.serveJwks();
    nats = await NatsTestClient.connect(NATS_URL);
    @Module({
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => ({ LOG_LEVEL: 'debug' })] }),
        AuthModule.forRoot({
          issuer: issuer.issuer,
          audience: 'orders',
          jwksUri: jwks.url,
          natsUrl: NATS_URL,
          serviceName: 'logging-spec',
          revocationBucket: BUCKET,
        }),
        LoggingModule.forRoot({ service: 'probe', destination: capture }),
      ],
      controllers: [ThingsController, HealthController],
    })
    class ProbeModule {}
    // as createServiceApp does: Nest's lines are buffered until the pino logger takes over
    app = await NestFactory.create<NestFastifyApplication>(ProbeModule, new FastifyAdapter(), {
      bufferLogs: true,
    });
    app.useLogger(app.get(PinoNestLogger));
    app.connectMicroservice(natsMicroserviceOptions({ url: NATS_URL, name: 'logging-spec' }), {
      inheritAppConfig: true,
    });
    await app.init();
    await app.startAllMicroservices();
    await app.getHttpAdapter().getInstance().ready();
  });

  afterAll(async () => {
    if (!closed) await app?.close();
    const manager = await nats?.connection.jetstreamManager();
    await manager?.streams.delete(`KV_${BUCKET}`).catch(() => false);
    await nats?.close();
    await jwks?.stop();
  });

  /** The lines of `requestId` once its access line is written (it follows the answer by a hook or a tick). */
  async function linesOf(requestId: string): Promise<{ app: Line[]; access: Line[] }> {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const lines = capture.lines().filter((line) => line['request_id'] === requestId);
      const access = lines.filter((line) => 'transport' in line);
      if (access.length > 0) return { app: lines.filter((line) => !('transport' in line)), access };
      await new Promise((done) => setTimeout(done, 10));
    }
    throw new Error(`no access line for ${requestId}`);
  }

  it('writes Nest’s own start-up lines through pino, as JSON with the service', () => {
    const routes = capture.lines().filter((line) => line['context'] === 'RouterExplorer');

    expect(routes).toContainEqual(
      expect.objectContaining({
        service: 'probe',
        level: 'info',
        msg: expect.stringContaining('/things/:id'),
      }),
    );
  });

  it('ties an HTTP handler’s line and the access line to the call and its verified caller', async () => {
    const token = issuer.mintAccessToken();
    const response = await app.inject({
      method: 'GET',
      url: '/things/42',
      headers: { authorization: `Bearer ${token}`, traceparent: TRACEPARENT, 'x-request-id': 'req-http-1' },
    });

    const { app: handlerLines, access } = await linesOf('req-http-1');
    expect(response.statusCode).toBe(200);
    const caller = { trace_id: TRACE_ID, request_id: 'req-http-1', sub: 'user-1', client_id: 'relay-web' };
    expect(handlerLines).toEqual([
      {
        level: 'info',
        time: expect.any(String),
        service: 'probe',
        ...caller,
        span_id: expect.stringMatching(/^[0-9a-f]{16}$/),
        context: 'Things',
        thing: '42',
        authorization: REDACTED,
        msg: 'Looked up a thing',
      },
    ]);
    expect(access).toEqual([
      {
        level: 'info',
        time: expect.any(String),
        service: 'probe',
        transport: 'http',
        method: 'GET',
        route: '/things/:id',
        status: 200,
        duration_ms: expect.any(Number),
        verdict: 'accepted',
        cache_hit: false,
        ...caller,
        span_id: handlerLines[0]['span_id'],
        msg: 'GET /things/:id 200',
      },
    ]);
    expect(capture.raw).not.toContain(token);
  });

  it('logs a refused token’s request with its verdict and no caller', async () => {
    const token = issuer.mintAccessToken({ claims: { aud: 'elsewhere' } });
    const response = await app.inject({
      method: 'GET',
      url: '/things/7',
      headers: { authorization: `Bearer ${token}`, 'x-request-id': 'req-http-refused' },
    });

    const { app: handlerLines, access } = await linesOf('req-http-refused');
    expect(response.statusCode).toBe(401);
    expect(handlerLines).toEqual([]);
    expect(access).toEqual([
      expect.objectContaining({ transport: 'http', route: '/things/:id', status: 401, verdict: 'refused' }),
    ]);
    expect(access[0]).not.toHaveProperty('sub');
    expect(access[0]).not.toHaveProperty('cache_hit');
    expect(capture.raw).not.toContain(token);
  });

  it('ties a NATS handler’s line and the access line to the message and its verified caller', async () => {
    const token = issuer.mintAccessToken();
    const reply = await nats.request(
      `${PREFIX}.thing`,
      { id: 'n-1' },
      {
        headers: { authorization: `Bearer ${token}`, traceparent: TRACEPARENT, 'x-request-id': 'req-nats-1' },
      },
    );

    const { app: handlerLines, access } = await linesOf('req-nats-1');
    expect(reply.response).toEqual({ id: 'n-1' });
    const caller = { trace_id: TRACE_ID, request_id: 'req-nats-1', sub: 'user-1', client_id: 'relay-web' };
    expect(handlerLines).toEqual([
      expect.objectContaining({ ...caller, context: 'Things', thing: 'n-1', password: REDACTED }),
    ]);
    expect(access).toEqual([
      expect.objectContaining({
        transport: 'nats',
        subject: `${PREFIX}.thing`,
        status: 200,
        verdict: 'accepted',
        ...caller,
        span_id: handlerLines[0]['span_id'],
        msg: `${PREFIX}.thing 200`,
      }),
    ]);
    expect(capture.raw).not.toContain(token);
    expect(capture.raw).not.toContain('hunter2-hunter2');
  });

  it('logs a NATS message without a token as refused, with the err status', async () => {
    const reply = await nats.request(
      `${PREFIX}.thing`,
      { id: 'n-2' },
      { headers: { 'x-request-id': 'req-nats-2' } },
    );

    const { access } = await linesOf('req-nats-2');
    expect(reply.err).toBeDefined();
    expect(access).toEqual([
      expect.objectContaining({
        transport: 'nats',
        status: 401,
        verdict: 'refused',
        request_id: 'req-nats-2',
      }),
    ]);
  });

  it.each(['/health', '/health/ready', '/health/live'])('writes the probe %s at debug', async (route) => {
    const requestId = `req-probe${route.replaceAll('/', '-')}`;
    await app.inject({ method: 'GET', url: route, headers: { 'x-request-id': requestId } });

    const { access } = await linesOf(requestId);
    expect(access).toEqual([expect.objectContaining({ level: 'debug', route, verdict: 'none' })]);
  });

  it('writes no request line of its own (pino-http is not installed)', async () => {
    await app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'req-probe' } });

    await linesOf('req-probe');
    const lines = capture.lines();
    expect(
      lines.filter((line) => 'req' in line || 'res' in line || line['msg'] === 'request completed'),
    ).toEqual([]);
  });

  it('stops listening for finished calls when the app shuts down', async () => {
    expect(channel(CALL_FINISHED_CHANNEL).hasSubscribers).toBe(true);

    await app.close();
    closed = true;

    expect(channel(CALL_FINISHED_CHANNEL).hasSubscribers).toBe(false);
  });
});
