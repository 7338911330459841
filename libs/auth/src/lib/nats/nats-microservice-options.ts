import { type NatsOptions, Transport } from '@nestjs/microservices';

/**
 * Options for `app.connectMicroservice(natsMicroserviceOptions(url, 'inventory'), { inheritAppConfig: true })`:
 * NATS transport, named connection, one queue group per service, endless reconnects.
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
    },
  };
}
