import { type CustomStrategy, NatsContext, ServerNats } from '@nestjs/microservices';
import { SpanKind } from '@opentelemetry/api';

import { MessageHeaders } from '@relay/contracts';

import { CallContext } from '../call-context/call-context';
import { type NatsConnectionSettings, natsConnectionOptions } from './nats-connection';
import { readNatsHeader } from './nats-headers';
import { StrictNatsDeserializer } from './strict-nats-deserializer';

/**
 * Nest's NATS server, minus one cost per message: Nest reads a subject as JSON first (an object
 * pattern is sent as its JSON text), and a plain subject such as `inventory.reserve` fails that parse
 * with a thrown SyntaxError, twice per message. Only a subject that can be JSON is parsed here.
 */
class RelayServerNats extends ServerNats {
  protected override getRouteFromPattern(pattern: string): string {
    return pattern.startsWith('{') ? super.getRouteFromPattern(pattern) : this.normalizePattern(pattern);
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
  server.setOnProcessingStartHook((_transportId, context, done) => {
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
  });
  return { strategy: server };
}
