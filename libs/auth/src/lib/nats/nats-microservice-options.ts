import { type NatsOptions, Transport } from '@nestjs/microservices';

import { StrictNatsDeserializer } from './strict-nats-deserializer';

/**
 * Options for `app.connectMicroservice(natsMicroserviceOptions(url, 'inventory'), { inheritAppConfig: true })`:
 * NATS transport, named connection, one queue group per service, endless reconnects, and the
 * `StrictNatsDeserializer` (unusable payloads reach the handler as `MalformedNatsPayload`, which
 * `StrictValidationPipe` answers with err `{status: 400}`; Nest's own decoder throws and never answers).
 */
export function natsMicroserviceOptions(natsUrl: string, serviceName: string): NatsOptions {
  return {
    transport: Transport.NATS,
    options: {
      servers: natsUrl.split(','),
      name: serviceName,
      queue: serviceName,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      deserializer: new StrictNatsDeserializer(),
    },
  };
}
