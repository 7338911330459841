import { type DynamicModule, Module } from '@nestjs/common';

import type { ObservabilityOptions } from '../observability.module';

// PLACEHOLDER (being built this session): prom-client metrics at GET /metrics
@Module({})
export class MetricsModule {
  static forRoot(_options: ObservabilityOptions): DynamicModule {
    return { module: MetricsModule };
  }
}
