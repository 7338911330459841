import { type DynamicModule, Global, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';

import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { stopTracing } from './tracing/tracing';

/** What {@link ObservabilityModule.forRoot} needs to know of the app. */
export interface ObservabilityOptions {
  /** The service's name: `service` in every log line, `service.name` of its spans, a label of its metrics. */
  service: string;
}

@Injectable()
class TracingCloser implements OnApplicationShutdown {
  // the last spans of a stopping app are exported before it exits
  async onApplicationShutdown(): Promise<void> {
    await stopTracing();
  }
}

/**
 * An app's logs (JSON lines with trace, span and request ids), metrics (`GET /metrics`) and the
 * flush of its traces at shutdown. The tracing SDK itself starts before the app (`runService`).
 */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(options: ObservabilityOptions): DynamicModule {
    return {
      module: ObservabilityModule,
      imports: [LoggingModule.forRoot(options), MetricsModule.forRoot(options)],
      providers: [TracingCloser],
    };
  }
}
