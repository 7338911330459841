export { LoggingModule } from './lib/logging/logging.module';
export { MetricsModule } from './lib/metrics/metrics.module';
export { ObservabilityModule, type ObservabilityOptions } from './lib/observability.module';
export { recordOrderSettled, type SettledOrderStatus } from './lib/metrics/order-metrics';
export { ErrorResponse } from './lib/openapi/error-response';
export {
  API_VERSION,
  ApiBearerToken,
  buildOpenApiDocument,
  installOpenApi,
  OPENAPI_JSON_PATH,
  OPENAPI_UI_PATH,
} from './lib/openapi/openapi';
export {
  checkOpenApiConformance,
  initAndCheckOpenApi,
  type OpenApiCheck,
  type OpenApiConformance,
  recordRoutes,
  type RegisteredRoute,
} from './lib/openapi/openapi-conformance';
export { createServiceLogger } from './lib/logging/service-logger';
export { DEFAULT_ROOT_SAMPLE_RATIO, startTracing, stopTracing, type Tracing } from './lib/tracing/tracing';
