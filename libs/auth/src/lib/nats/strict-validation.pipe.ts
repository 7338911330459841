import { type ArgumentMetadata, BadRequestException, Injectable, ValidationPipe } from '@nestjs/common';
import type { ValidationError } from 'class-validator';

import { MalformedNatsPayload } from './strict-nats-deserializer';

// class-validator's message for a field the DTO does not declare, after any parent path Nest adds
const UNKNOWN_PROPERTY = /^(.*?)property (.*) should not exist$/s;
// what a client's field name looks like; anything else is named by no answer
const FIELD_NAME = /^[A-Za-z_$][\w$-]{0,63}$/;

/**
 * An app's one validation pipe (HTTP and NATS; register it as `APP_PIPE`): unknown fields refused,
 * payloads transformed into their DTO classes, and NATS payloads `StrictNatsDeserializer` could not
 * use answered with 400. An unknown field is named in the 400 only when its name looks like one: a
 * JSON text sent as a form (`curl -d` without a content type) arrives as a single field named by the
 * whole text, password and all.
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
      if (unknown === null || FIELD_NAME.test(unknown[2])) return message;
      return `${unknown[1]}an unknown property should not exist`;
    });
  }
}
