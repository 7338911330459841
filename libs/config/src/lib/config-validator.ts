// class-transformer reads design:type metadata for implicit conversion, even before Nest loads.
import 'reflect-metadata';

import { plainToInstance } from 'class-transformer';
import { type ValidationError, validateSync } from 'class-validator';

/** Thrown when the environment does not satisfy an app's config class; the message is one line. */
export class InvalidEnvironmentError extends Error {
  override readonly name = 'InvalidEnvironmentError';
}

/** Validates raw environment variables into a typed config object. */
export type ConfigValidator<T> = (env: Record<string, unknown>) => T;

/**
 * Builds a validator for `ConfigModule.forRoot({ validate })` from a class-validator class whose
 * field initialisers are the contract's defaults. Unknown variables are ignored; the first invalid
 * variable throws an {@link InvalidEnvironmentError} naming it (values are never echoed: they may be secrets).
 */
export function createConfigValidator<T extends object>(configClass: new () => T): ConfigValidator<T> {
  return (env) => {
    const config = plainToInstance(configClass, withoutEmptyValues(env), {
      enableImplicitConversion: true,
      exposeDefaultValues: true,
    });
    const [firstError] = validateSync(config, { whitelist: false, stopAtFirstError: true });
    if (firstError) {
      throw new InvalidEnvironmentError(`Invalid environment: ${describe(firstError)}`);
    }
    return config;
  };
}

/**
 * Validates `process.env` before Nest starts; on failure prints the one-line reason and exits 1,
 * as the contract asks ("a bad or missing required value ends the process at once").
 */
export function exitOnInvalidEnvironment<T>(validate: ConfigValidator<T>): T {
  try {
    return validate(process.env);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}

// An empty variable (`PORT=`) means "use the default", as shells and compose files write it.
function withoutEmptyValues(env: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
}

function describe(error: ValidationError): string {
  const message = Object.values(error.constraints ?? {})[0];
  return message ?? `${error.property} is invalid`;
}
