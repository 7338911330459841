import { type DynamicModule, Module } from '@nestjs/common';

import type { ObservabilityOptions } from '../observability.module';

// PLACEHOLDER (being built this session): pino JSON logs through nestjs-pino
@Module({})
export class LoggingModule {
  static forRoot(_options: ObservabilityOptions): DynamicModule {
    return { module: LoggingModule };
  }
}
