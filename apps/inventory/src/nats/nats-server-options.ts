import type { NatsOptions } from '@nestjs/microservices';

import { natsMicroserviceOptions } from '@relay/auth';

import { StrictNatsDeserializer } from './strict-nats-deserializer';

/** `natsMicroserviceOptions` with a deserializer that answers garbage with 400 instead of crashing. */
export function strictNatsMicroserviceOptions(natsUrl: string, serviceName: string): NatsOptions {
  const base = natsMicroserviceOptions(natsUrl, serviceName);
  return { ...base, options: { ...base.options, deserializer: new StrictNatsDeserializer() } };
}
