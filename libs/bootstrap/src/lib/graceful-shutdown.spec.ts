import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { connect as connectTcp } from 'node:net';

import { Controller, Get, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern } from '@nestjs/microservices';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { connect, type NatsConnection, type NatsError, StringCodec } from 'nats';

import { natsMicroserviceOptions } from '@relay/auth';
import { HealthModule } from '@relay/health';

import { GracefulShutdown } from './graceful-shutdown';

const NATS_URL = process.env['RELAY_TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';
// one subject per run: other specs on the shared bus never answer it
const SLOW_SUBJECT = `graceful-spec.slow.${randomUUID()}`;

/** A promise the spec settles: the handlers below wait on one, so work stays in flight until it says. */
class Gate {
  readonly opened: Promise<void>;
  open!: () => void;

  constructor() {
    this.opened = new Promise((resolve) => (this.open = resolve));
  }
}

/** One call of a slow handler: `entered` once it runs, answered once the spec opens `release`. */
class HeldCall {
  readonly entered = new Gate();
  readonly release = new Gate();
}

const held = { http: new HeldCall(), nats: new HeldCall() };

@Controller('slow')
class SlowController {
  @Get()
  async slow(): Promise<{ answer: string }> {
    held.http.entered.open();
    await held.http.release.opened;
    return { answer: 'http' };
  }

  @MessagePattern(SLOW_SUBJECT)
  async slowMessage(): Promise<{ answer: string }> {
    held.nats.entered.open();
    await held.nats.release.opened;
    return { answer: 'nats' };
  }
}

@Module({
  imports: [HealthModule.forRootAsync({ useFactory: () => [] })],
  controllers: [SlowController],
})
class SlowModule {}

async function startSlowApp(
  timeoutMs: number,
): Promise<{ app: NestFastifyApplication; shutdown: GracefulShutdown; url: string }> {
  // the NATS wiring of createServiceApp (the processing hook GracefulShutdown counts messages with)
  const app = await NestFactory.create<NestFastifyApplication>(SlowModule, new FastifyAdapter(), {
    logger: ['error'],
  });
  app.connectMicroservice(
    natsMicroserviceOptions({ url: NATS_URL, name: `graceful-spec-${randomUUID().slice(0, 8)}` }),
    { inheritAppConfig: true },
  );
  const shutdown = GracefulShutdown.prepare(app, { graceMs: 0, timeoutMs });
  await app.init();
  await app.startAllMicroservices();
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, shutdown, url: `http://127.0.0.1:${port}` };
}

/** Whether a new TCP connection to `url` is accepted. */
function acceptsConnections(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connectTcp(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A Nest-format request on `subject` (`{pattern, data, id}`); resolves to the decoded reply. */
async function natsRequest(nats: NatsConnection, subject: string): Promise<unknown> {
  const codec = StringCodec();
  const payload = JSON.stringify({ pattern: subject, data: {}, id: randomUUID() });
  const reply = await nats.request(subject, codec.encode(payload), { timeout: 30_000 });
  return JSON.parse(codec.decode(reply.data));
}

function settledFlag(promise: Promise<unknown>): { readonly isSettled: boolean } {
  const flag = { isSettled: false };
  void promise.then(
    () => (flag.isSettled = true),
    () => (flag.isSettled = true),
  );
  return flag;
}

describe(GracefulShutdown.name, () => {
  describe('with an HTTP request and a NATS message in flight', () => {
    let app: NestFastifyApplication;
    let shutdown: GracefulShutdown;
    let url: string;
    let client: NatsConnection;
    let httpAnswer: Promise<Response>;
    let natsAnswer: Promise<unknown>;
    let drained: Promise<unknown>;

    beforeAll(async () => {
      ({ app, shutdown, url } = await startSlowApp(60_000));
      client = await connect({ servers: NATS_URL });
      httpAnswer = fetch(`${url}/slow`);
      natsAnswer = natsRequest(client, SLOW_SUBJECT);
      await Promise.all([held.http.entered.opened, held.nats.entered.opened]);
      drained = shutdown.drain();
      // the listener closes once the (zero) grace has passed
      while (app.getHttpServer().listening) await new Promise((resolve) => setImmediate(resolve));
    });

    afterAll(async () => {
      held.http.release.open();
      held.nats.release.open();
      await app.close();
      await client.close();
    });

    it('answers /health/ready 503 (draining) and /health/live 200', async () => {
      const ready = await app.inject({ method: 'GET', url: '/health/ready' });
      const live = await app.inject({ method: 'GET', url: '/health/live' });

      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toEqual({ status: 'unavailable', checks: {}, draining: true });
      expect(live.statusCode).toBe(200);
    });

    it('refuses new connections', async () => {
      await expect(acceptsConnections(url)).resolves.toBe(false);
    });

    it('takes no new NATS message: the bus has no responder for the subject any more', async () => {
      await expect(natsRequest(client, SLOW_SUBJECT)).rejects.toMatchObject({
        code: '503',
      } satisfies Partial<NatsError>);
    });

    it('keeps draining while the NATS message is in flight, then answers it', async () => {
      held.http.release.open();
      const http = await httpAnswer;
      const drain = settledFlag(drained);

      expect(http.status).toBe(200);
      expect(await http.json()).toEqual({ answer: 'http' });
      expect(http.headers.get('connection')).toBe('close');
      expect(drain.isSettled).toBe(false);

      held.nats.release.open();

      await expect(natsAnswer).resolves.toMatchObject({ response: { answer: 'nats' } });
      await expect(drained).resolves.toBe('drained');
    });
  });

  // a database pool whose server stopped answering holds its end (and Nest's shutdown hooks) for as long
  // as the server is silent: past Docker's 10 s, the app was SIGKILLed instead of exiting
  describe('when closing the app does not finish', () => {
    it('gives up after closeTimeoutMs and says so', async () => {
      const stalled = new Gate();
      @Injectable()
      class StalledPool implements OnApplicationShutdown {
        onApplicationShutdown(): Promise<void> {
          return stalled.opened;
        }
      }
      @Module({ imports: [HealthModule.forRootAsync({ useFactory: () => [] })], providers: [StalledPool] })
      class StalledModule {}
      const app = await NestFactory.create<NestFastifyApplication>(StalledModule, new FastifyAdapter(), {
        logger: ['error'],
      });
      const shutdown = GracefulShutdown.prepare(app, { graceMs: 0, timeoutMs: 100, closeTimeoutMs: 200 });
      await app.init();
      await app.listen(0, '127.0.0.1');
      try {
        await expect(shutdown.close()).rejects.toThrow('the app did not close within 200 ms');
      } finally {
        stalled.open();
      }
    });
  });

  describe('when the work in flight outlasts the timeout', () => {
    it('cuts the open HTTP connections and reports timed-out', async () => {
      held.http = new HeldCall();
      const { app, shutdown, url } = await startSlowApp(100);
      try {
        const answer = fetch(`${url}/slow`);
        await held.http.entered.opened;

        await expect(shutdown.drain()).resolves.toBe('timed-out');
        await expect(answer).rejects.toThrow();
      } finally {
        held.http.release.open();
        await app.close();
      }
    });
  });
});
