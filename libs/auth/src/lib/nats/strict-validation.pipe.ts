import { type ArgumentMetadata, BadRequestException, Injectable, ValidationPipe } from '@nestjs/common';
import type { ValidationError } from 'class-validator';

import { MalformedNatsPayload } from './strict-nats-deserializer';

// class-validator's message for a field the DTO does not declare, after any parent path Nest adds
const UNKNOWN_PROPERTY = /^(.*?)property .* should not exist$/s;

/**
 * An app's one validation pipe (HTTP and NATS; register it as `APP_PIPE`): unknown fields refused,
 * payloads transformed into their DTO classes, and NATS payloads `StrictNatsDeserializer` could not
 * use answered with 400. The 400 never names an unknown field, only where it was (`lines.0.`): a body
 * sent as a form (`curl -d` without a content type; Express parses forms) arrives as a single field
 * named by the whole text, and `curl -d "$REFRESH_TOKEN"` would have its token sent back.
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

  protected override flattenValidationErrors(validationErrors: ValidationError[]): string[] {
    return super.flattenValidationErrors(validationErrors).map((message) => {
      const unknown = UNKNOWN_PROPERTY.exec(message);
      return unknown === null ? message : `${unknown[1]}an unknown property should not exist`;
    });
  }
}
