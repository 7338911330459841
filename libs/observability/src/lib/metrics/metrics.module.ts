import {
  type DynamicModule,
  Inject,
  Injectable,
  Module,
  type OnModuleDestroy,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import type { Registry } from 'prom-client';

import { RevocationList } from '@relay/auth';

import { jwksMetrics, revocationMetrics } from './auth-state-metrics';
import { callMetrics } from './call-metrics';
import type { Unsubscribe } from './channel-subscription';
import { loginMetrics } from './login-metrics';
import { MetricsController } from './metrics.controller';
import { createMetricsRegistry, METRICS_REGISTRY } from './metrics-registry';
import { natsClientMetrics } from './nats-client-metrics';
import { orderMetrics } from './order-metrics';

/** What {@link MetricsModule.forRoot} needs to know of the app. */
export interface MetricsModuleOptions {
  /** The `service` label of every series. */
  service: string;
}

/** Registers the app's metrics and subscribes them to `@relay/auth`'s channels for the life of the app. */
@Injectable()
class MetricsSubscriptions implements OnModuleInit, OnModuleDestroy {
  private unsubscribes: Unsubscribe[] = [];

  constructor(
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    // absent only in an app without AuthModule: then there is no feed to report
    @Optional() private readonly revocations?: RevocationList,
  ) {}

  onModuleInit(): void {
    this.unsubscribes = [
      callMetrics(this.registry),
      loginMetrics(this.registry),
      natsClientMetrics(this.registry),
      jwksMetrics(this.registry),
      revocationMetrics(this.registry, this.revocations),
      orderMetrics(this.registry),
    ];
  }

  onModuleDestroy(): void {
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.unsubscribes = [];
  }
}

/**
 * `GET /metrics` (no token): Prometheus text format with the app's token verifications, verifier
 * cache hits, JWKS fetches, revocation feed state and lag, HTTP and NATS latencies (server and
 * client), login attempts, orders by final status and Node's runtime metrics, each labelled `service`.
 */
@Module({})
export class MetricsModule {
  static forRoot(options: MetricsModuleOptions): DynamicModule {
    return {
      module: MetricsModule,
      controllers: [MetricsController],
      providers: [
        { provide: METRICS_REGISTRY, useFactory: () => createMetricsRegistry(options.service) },
        MetricsSubscriptions,
      ],
    };
  }
}
