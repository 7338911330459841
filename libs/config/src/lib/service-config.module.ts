import type { DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';

import type { ConfigValidator } from './config-validator';

/**
 * An app's `ConfigModule`: global, validated by `validate`, read from the process environment alone.
 * No `.env` file: `@nestjs/config` would otherwise read one from the working directory as the app
 * module is imported (the compose quick start writes one at the repository's root), a source of
 * settings the contract does not name and the start-up check of the environment never sees.
 */
export function serviceConfigModule<T extends object>(validate: ConfigValidator<T>): Promise<DynamicModule> {
  return ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, validate });
}
