import {
  Controller,
  type DynamicModule,
  Get,
  HttpStatus,
  Inject,
  Module,
  type ModuleMetadata,
  Res,
} from '@nestjs/common';
import { Public, RelayNatsClient, RevocationList } from '@relay/auth';
import { DATABASE, type Database } from '@relay/database';
import type { FastifyReply } from 'fastify';

import { type HealthCheck, type HealthReport, runHealthChecks } from './health-check';

const HEALTH_CHECKS = Symbol('HEALTH_CHECKS');

@Controller('health')
class HealthController {
  constructor(@Inject(HEALTH_CHECKS) private readonly checks: readonly HealthCheck[]) {}

  /** Readiness: whether this app can do its work now (every check up); `GET /health` is the same. */
  @Public()
  @Get(['ready', ''])
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthReport> {
    const report = await runHealthChecks(this.checks);
    reply.status(report.status === 'ok' ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return report;
  }

  /**
   * Liveness: 200 while the process can answer at all. A NATS or database outage does not fail it:
   * restarting the app would not bring either back, and the app reconnects on its own.
   */
  @Public()
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }
}

/** Options of {@link HealthModule.forRootAsync}: the factory lists the app's checks. */
export interface HealthModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: Array<string | symbol | (abstract new (...args: never[]) => unknown)>;
  useFactory: (...args: never[]) => HealthCheck[];
}

/**
 * `GET /health/ready` and `GET /health` (no auth): 200 when every check is up, 503 with the same body
 * otherwise. `GET /health/live`: 200 while the process answers.
 */
@Module({})
export class HealthModule {
  /**
   * The checks every Relay app answers for: its database, NATS, and the revocation feed
   * (JetStream) — without the feed the app refuses tokens, so it is not healthy.
   */
  static forRoot(): DynamicModule {
    return HealthModule.forRootAsync({
      inject: [DATABASE, RelayNatsClient, RevocationList],
      useFactory: (database: Database, nats: RelayNatsClient, revocations: RevocationList) => [
        { name: 'database', check: () => database.ping() },
        ...busChecks(nats, revocations),
      ],
    });
  }

  static forRootAsync(options: HealthModuleAsyncOptions): DynamicModule {
    return {
      module: HealthModule,
      imports: options.imports ?? [],
      controllers: [HealthController],
      providers: [{ provide: HEALTH_CHECKS, inject: options.inject ?? [], useFactory: options.useFactory }],
    };
  }
}

/**
 * The checks of an app on the bus, for `forRootAsync` in an app without a database: NATS, and the
 * revocation feed (without it every token is refused).
 */
export function busChecks(nats: RelayNatsClient, revocations: RevocationList): HealthCheck[] {
  return [
    { name: 'nats', check: () => nats.ping() },
    {
      name: 'revocations',
      check: () =>
        revocations.isSynced() ? Promise.resolve() : Promise.reject(new Error('revocation feed not synced')),
    },
  ];
}
