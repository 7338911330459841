import { Controller, Get, Header, Inject } from '@nestjs/common';
import { Registry } from 'prom-client';

import { Public } from '@relay/auth';

import { METRICS_REGISTRY } from './metrics-registry';

/** `GET /metrics`: the app's metrics in Prometheus text format, for a scraper without a token. */
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(METRICS_REGISTRY) private readonly registry: Registry) {}

  // counts and latencies only, labelled by route template, subject and status: never a token, email or id
  @Public()
  @Get()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
