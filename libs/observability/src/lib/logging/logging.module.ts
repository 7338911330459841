import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { LoggerModule as PinoLoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';

import type { RelayLogFormat, RelayLogLevel } from '@relay/config';

import type { ObservabilityOptions } from '../observability.module';
import { AccessLog, SERVICE_LOGGER } from './access-log';
import { createServiceLogger, type ServiceLogger } from './service-logger';

/** What {@link LoggingModule.forRoot} needs: the service's name, and where its lines go. */
export interface LoggingOptions extends ObservabilityOptions {
  /** Default: stdout. */
  destination?: DestinationStream;
}

/** Holds the service's pino logger, so that nestjs-pino and the access log share one. */
@Module({})
class ServiceLoggerModule {}

/**
 * The app's logs: one pino logger (`createServiceLogger`) at the validated `LOG_LEVEL` and
 * `LOG_FORMAT` (from `ConfigService`; `info` and `json` in an app without one), behind nestjs-pino's
 * Nest `Logger` (`createServiceApp` makes it the app's logger: Nest's own lines and every
 * `new Logger(context)` go through it), and the access log ({@link AccessLog}).
 *
 * nestjs-pino's pino-http middleware is not installed (`forRoutes: []`): `@relay/auth` already runs
 * each HTTP request and NATS message as a call, whose fields the logger's mixin adds to every line,
 * and whose end gives the access line. pino-http would log each request a second time (HTTP only),
 * and cost a child logger and an async context per request.
 */
@Module({})
export class LoggingModule {
  static forRoot(options: LoggingOptions): DynamicModule {
    const serviceLogger: Provider = {
      provide: SERVICE_LOGGER,
      inject: [{ token: ConfigService, optional: true }],
      useFactory: (config?: ConfigService): ServiceLogger =>
        createServiceLogger({
          service: options.service,
          level: config?.get<RelayLogLevel>('LOG_LEVEL'),
          format: config?.get<RelayLogFormat>('LOG_FORMAT'),
          destination: options.destination,
        }),
    };
    const holder: DynamicModule = {
      module: ServiceLoggerModule,
      providers: [serviceLogger],
      exports: [SERVICE_LOGGER],
    };
    return {
      module: LoggingModule,
      imports: [
        holder,
        PinoLoggerModule.forRootAsync({
          imports: [holder],
          inject: [SERVICE_LOGGER],
          useFactory: (logger: ServiceLogger) => ({
            pinoHttp: { logger },
            useExisting: true,
            forRoutes: [],
          }),
        }),
      ],
      providers: [AccessLog],
    };
  }
}
