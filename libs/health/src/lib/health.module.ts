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
import { ApiOkResponse, ApiServiceUnavailableResponse } from '@nestjs/swagger';
import { Public, RelayNatsClient, RevocationList } from '@relay/auth';
import { DATABASE, type Database } from '@relay/database';
import type { FastifyReply } from 'fastify';

import { type HealthCheck, type HealthReport, runHealthChecks } from './health-check';
import { Readiness } from './readiness';

const HEALTH_CHECKS = Symbol('HEALTH_CHECKS');

// the OpenAPI schema of HealthReport (an interface, so described here)
const HEALTH_REPORT_SCHEMA = {
  type: 'object',
  required: ['status', 'checks'],
  properties: {
    status: { type: 'string', enum: ['ok', 'unavailable'] },
    checks: {
      type: 'object',
      additionalProperties: { type: 'string', enum: ['up', 'down'] },
      example: { database: 'up', nats: 'up', revocations: 'up' },
    },
    draining: { type: 'boolean', enum: [true], description: 'Present while the app shuts down' },
  },
};

@Controller('health')
class HealthController {
  constructor(
    @Inject(HEALTH_CHECKS) private readonly checks: readonly HealthCheck[],
    private readonly readiness: Readiness,
  ) {}

  /**
   * Readiness: whether this app can take work now (every check up, not shutting down); `GET /health`
   * is the same. A draining app still reports its checks, so an operator sees why it is out.
   */
  @Public()
  @Get(['ready', ''])
  @ApiOkResponse({ description: 'Every check is up', schema: HEALTH_REPORT_SCHEMA })
  @ApiServiceUnavailableResponse({
    description: 'Some check is down, or the app is shutting down',
    schema: HEALTH_REPORT_SCHEMA,
  })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthReport> {
    const checked = await runHealthChecks(this.checks);
    // read after the checks: a drain that began while they ran must not be answered as ready
    const report: HealthReport = this.readiness.isDraining
      ? { ...checked, status: 'unavailable', draining: true }
      : checked;
    reply.status(report.status === 'ok' ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return report;
  }

  /**
   * Liveness: 200 while the process can answer at all. A NATS or database outage does not fail it:
   * restarting the app would not bring either back, and the app reconnects on its own. Nor does a
   * drain: the process is finishing work in flight, and killing it would lose that work.
   */
  @Public()
  @Get('live')
  @ApiOkResponse({
    description: 'The process answers',
    schema: {
      type: 'object',
      required: ['status'],
      properties: { status: { type: 'string', enum: ['ok'] } },
    },
  })
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
 * otherwise or once {@link Readiness.drain} has been called (shutdown). `GET /health/live`: 200 while
 * the process answers. Exports {@link Readiness} for the shutdown sequence.
 */
@Module({})
export class HealthModule {
  /**
   * The checks every Relay app answers for: its database, NATS, and the revocation feed
   * (JetStream) — without the feed the app refuses tokens, so it is not healthy. `revocationFeed:
   * false` for the issuer (CONTRACT: the feed counts on orders and inventory), which goes on with
   * the entries it knows (`revocationOutage: 'last-known'`): logins must not stop with the feed.
   */
  static forRoot({ revocationFeed = true }: { revocationFeed?: boolean } = {}): DynamicModule {
    return HealthModule.forRootAsync({
      inject: [DATABASE, RelayNatsClient, RevocationList],
      useFactory: (database: Database, nats: RelayNatsClient, revocations: RevocationList) => [
        { name: 'database', check: () => database.ping() },
        natsCheck(nats),
        ...(revocationFeed ? [revocationsCheck(revocations)] : []),
      ],
    });
  }

  static forRootAsync(options: HealthModuleAsyncOptions): DynamicModule {
    return {
      module: HealthModule,
      imports: options.imports ?? [],
      controllers: [HealthController],
      providers: [
        { provide: HEALTH_CHECKS, inject: options.inject ?? [], useFactory: options.useFactory },
        Readiness,
      ],
      exports: [Readiness],
    };
  }
}

/**
 * The checks of an app on the bus, for `forRootAsync` in an app without a database: NATS, and the
 * revocation feed (without it every token is refused).
 */
export function busChecks(nats: RelayNatsClient, revocations: RevocationList): HealthCheck[] {
  return [natsCheck(nats), revocationsCheck(revocations)];
}

function natsCheck(nats: RelayNatsClient): HealthCheck {
  return { name: 'nats', check: () => nats.ping() };
}

function revocationsCheck(revocations: RevocationList): HealthCheck {
  return {
    name: 'revocations',
    check: () =>
      revocations.isSynced() ? Promise.resolve() : Promise.reject(new Error('revocation feed not synced')),
  };
}
