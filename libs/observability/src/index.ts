export { ObservabilityModule, type ObservabilityOptions } from './lib/observability.module';
export { installOpenApi } from './lib/openapi/openapi';
export { startTracing, stopTracing, type Tracing } from './lib/tracing/tracing';
