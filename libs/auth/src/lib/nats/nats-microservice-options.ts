import { type CustomStrategy, type MessageHandler, NatsContext, ServerNats } from '@nestjs/microservices';
import { SpanKind } from '@opentelemetry/api';
import type { NatsConnection, Subscription } from 'nats';
import { lastValueFrom } from 'rxjs';

import { MessageHeaders } from '@relay/contracts';

import { CallContext } from '../call-context/call-context';
import { GUARD_PROBE_PATTERN, UNGUARDED_ANSWER } from './guard-probe.controller';
import { InFlight } from './in-flight';
import { type NatsConnectionSettings, natsConnectionOptions } from './nats-connection';
import { readNatsHeader } from './nats-headers';
import { StrictNatsDeserializer } from './strict-nats-deserializer';

/**
 * Nest's NATS server with four additions:
 * - it will not start when its handlers are open to anyone: the app's global `AccessTokenGuard`
 *   does not reach them (see {@link GuardProbeController});
 * - it counts as started once the server has every subscription (Nest's sends them unflushed, so
 *   a request right after `startAllMicroservices()` could meet "no responders");
 * - what a graceful shutdown needs (`drain`, `messagesInFlight`), which Nest's `ServerNats` lacks
 *   (its `close()` unsubscribes without waiting for the handlers in flight, then closes the connection);
 * - one cost per message less: Nest reads a subject as JSON first (an object pattern is sent as its
 *   JSON text), and a plain subject such as `inventory.reserve` fails that parse with a thrown
 *   SyntaxError, twice per message. Only a subject that can be JSON is parsed here.
 * Apps get it from {@link natsMicroserviceOptions}; `GracefulShutdown` finds it among the app's RPC
 * targets.
 */
export class RelayServerNats extends ServerNats {
  private readonly messages = new InFlight();

  override async listen(callback: (error?: unknown) => void): Promise<void> {
    const probe = this.messageHandlers.get(GUARD_PROBE_PATTERN);
    // a handler of this process only: never subscribed, so no bus client can call it
    this.messageHandlers.delete(GUARD_PROBE_PATTERN);
    if (probe !== undefined && (await this.answersWithoutToken(probe))) {
      return callback(
        new Error(
          "@relay/auth: the app's AccessTokenGuard does not reach its NATS handlers, which would run for " +
            'anyone: connect the microservice with app.connectMicroservice(natsMicroserviceOptions(...), ' +
            '{ inheritAppConfig: true })',
        ),
      );
    }
    return super.listen(callback);
  }

  override start(callback: (error?: unknown) => void): void {
    super.start(() => {
      const connection = this.connection();
      if (connection === undefined) return callback();
      connection.flush().then(
        () => callback(),
        (error: unknown) => callback(error),
      );
    });
  }

  /** Messages whose guards, pipes and handler have not settled yet. */
  get messagesInFlight(): number {
    return this.messages.size;
  }

  /**
   * Stops taking messages and finishes those taken: drains every subscription (the bus sends the
   * next messages to the other members of the queue group; once the server has acknowledged, every
   * message it sent before has reached its handler), waits for their handlers, and flushes the
   * replies. Leaves the connection open; Nest's `close()` (at `app.close()`) closes it.
   */
  async drain(): Promise<void> {
    // Nest 11 keeps its subscriptions private and offers no drain: this reads that member, and
    // graceful-shutdown.spec.ts fails when an upgrade moves it
    const subscriptions = this['subscriptions'] as Subscription[];
    await Promise.all(subscriptions.map((subscription) => subscription.drain().catch(() => undefined)));
    await this.messages.idle();
    // Nest publishes a reply on the tick after its handler settles; flush puts it on the wire
    await new Promise((resolve) => setImmediate(resolve));
    await this.connection()
      ?.flush()
      .catch(() => undefined);
  }

  /** Counts `handle` (a message's whole handling) in {@link messagesInFlight} until it settles. */
  track<T>(handle: () => T): T {
    return this.messages.track(handle);
  }

  private async answersWithoutToken(probe: MessageHandler): Promise<boolean> {
    try {
      const answer$ = this.transformToObservable(
        await probe({}, new NatsContext([GUARD_PROBE_PATTERN, undefined])),
      );
      return (await lastValueFrom(answer$)) === UNGUARDED_ANSWER;
    } catch {
      // refused (the guard, then the exception filter): guarded
      return false;
    }
  }

  protected override getRouteFromPattern(pattern: string): string {
    return pattern.startsWith('{') ? super.getRouteFromPattern(pattern) : this.normalizePattern(pattern);
  }

  private connection(): NatsConnection | undefined {
    try {
      return this.unwrap<NatsConnection>();
    } catch {
      // never connected (startAllMicroservices not reached): nothing to flush
      return undefined;
    }
  }
}

/**
 * Options for `app.connectMicroservice(natsMicroserviceOptions({ url, name: 'inventory' }), { inheritAppConfig: true })`:
 * Nest's NATS server connected as `natsConnectionOptions(settings)` says (TLS, NKey identity, own
 * inboxes, endless reconnects), one queue group per service (its `name`), the
 * `StrictNatsDeserializer` (unusable payloads reach the handler as `MalformedNatsPayload`, which
 * `StrictValidationPipe` answers with err `{status: 400}`; Nest's own decoder throws and never answers),
 * and every message handled inside its own `CallContext` (trace and request id from its headers, a
 * server span for a request, a consumer span for an event).
 */
export function natsMicroserviceOptions(settings: NatsConnectionSettings): CustomStrategy {
  const server = new RelayServerNats({
    ...natsConnectionOptions(settings),
    queue: settings.name,
    deserializer: new StrictNatsDeserializer(),
  });
  // Nest's hook around each message's guards, pipes and handler: the transport edge of a NATS call.
  // Nest types the hook as returning void but passes on what it returns (its own default returns
  // done()'s promise), so this one returns that promise too, settled once the handler has settled
  // (Nest publishes the answer on the next tick).
  // eslint-disable-next-line @typescript-eslint/no-misused-promises
  server.setOnProcessingStartHook((_transportId, context, done) =>
    server.track(() => {
      const subject = context instanceof NatsContext ? context.getSubject() : 'nats';
      const isEvent = server.getHandlerByPattern(subject)?.isEventHandler === true;
      const call = CallContext.begin({
        transport: 'nats',
        name: subject,
        kind: isEvent ? SpanKind.CONSUMER : SpanKind.SERVER,
        traceparent: readNatsHeader(context, MessageHeaders.traceparent),
        tracestate: readNatsHeader(context, MessageHeaders.tracestate),
        requestId: readNatsHeader(context, MessageHeaders.requestId),
        attributes: {
          'messaging.system': 'nats',
          'messaging.destination.name': subject,
          'messaging.operation.type': 'process',
        },
      });
      const settled = CallContext.enter(call, done) as unknown;
      return Promise.resolve(settled).then(
        () => CallContext.end(call),
        (error: unknown) => {
          CallContext.end(call, 500);
          throw error;
        },
      );
    }),
  );
  return { strategy: server };
}
