import { type ArgumentMetadata, BadRequestException, Injectable, ValidationPipe } from '@nestjs/common';

import { MalformedNatsPayload } from './strict-nats-deserializer';

/**
 * An app's one validation pipe (HTTP and NATS; register it as `APP_PIPE`): unknown fields refused,
 * payloads transformed into their DTO classes, and NATS payloads `StrictNatsDeserializer` could not
 * use answered with 400.
 */
@Injectable()
export class StrictValidationPipe extends ValidationPipe {
  constructor() {
    super({ whitelist: true, forbidNonWhitelisted: true, transform: true });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (value instanceof MalformedNatsPayload) {
      throw new BadRequestException(`Malformed message: ${value.reason}`);
    }
    return super.transform(value, metadata);
  }
}
