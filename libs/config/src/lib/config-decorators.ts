import { readFileSync } from 'node:fs';

import { applyDecorators } from '@nestjs/common';
import { IsInt, IsUrl, Max, Min, ValidateBy } from 'class-validator';

/** An integer environment variable within `[min, max]`; every failure reports `message`. */
export function IsIntegerInRange(min: number, max: number, message: string): PropertyDecorator {
  return applyDecorators(IsInt({ message }), Min(min, { message }), Max(max, { message }));
}

/** An integer environment variable that is 0 (off) or within `[min, max]`; every failure reports `message`. */
export function IsZeroOrInRange(min: number, max: number, message: string): PropertyDecorator {
  return ValidateBy({
    name: 'isZeroOrInRange',
    validator: {
      validate: (value: unknown) =>
        Number.isInteger(value) && (value === 0 || ((value as number) >= min && (value as number) <= max)),
      defaultMessage: () => message,
    },
  });
}

/** A TCP port (1..65535), reported as `PORT must be an integer between 1 and 65535`. */
export function IsPort(name = 'PORT', min = 1): PropertyDecorator {
  return IsIntegerInRange(min, 65_535, `${name} must be an integer between ${min} and 65535`);
}

/**
 * An absolute http(s) URL (hosts without a TLD, such as `auth` in compose, allowed); with `bare`, one
 * without a query or a fragment (an issuer, RFC 8414 §2, whose paths are appended to it).
 */
export function IsHttpUrl(name: string, { bare = false }: { bare?: boolean } = {}): PropertyDecorator {
  return IsUrl(
    {
      require_tld: false,
      require_protocol: true,
      protocols: ['http', 'https'],
      allow_query_components: !bare,
      allow_fragments: !bare,
    },
    { message: `${name} must be an http(s) URL${bare ? ' without a query or a fragment' : ''}` },
  );
}

/**
 * A file the process can read whose trimmed content passes `isContent` (the content is never
 * echoed: it may be a secret); every failure reports `message`.
 */
export function IsReadableFile(
  message: string,
  isContent: (text: string) => boolean = () => true,
): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isReadableFile',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && isContent(readText(value)),
        defaultMessage: () => message,
      },
    },
    { message },
  );
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}
