import {
  type DynamicModule,
  Global,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';

import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { stopTracing } from './tracing/tracing';

/** How long a stopping app waits for its last spans to reach the collector. */
export const TRACE_FLUSH_TIMEOUT_MS = 2000;

/** What {@link ObservabilityModule.forRoot} needs to know of the app. */
export interface ObservabilityOptions {
  /** The service's name: `service` in every log line, `service.name` of its spans, a label of its metrics. */
  service: string;
}

@Injectable()
export class TracingCloser implements OnApplicationShutdown {
  private readonly logger = new Logger('Tracing');

  // The last spans of a stopping app are exported before it exits, if the collector takes them in
  // time. A collector that is down or silent never fails the shutdown: the hooks after this one (the
  // database's close) still run, and the app still exits 0 within its shutdown timeout.
  async onApplicationShutdown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the collector did not take them within ${TRACE_FLUSH_TIMEOUT_MS} ms`)),
        TRACE_FLUSH_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([stopTracing(), timeout]);
    } catch (error) {
      this.logger.warn(
        `Spans not exported at shutdown: ${error instanceof Error ? error.message : String(error)}`,
      );
    } finally {
      clearTimeout(timer);
    }
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
