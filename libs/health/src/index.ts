export { busChecks, HealthModule, type HealthModuleAsyncOptions } from './lib/health.module';
export {
  HEALTH_CHECK_TIMEOUT_MS,
  runHealthChecks,
  type HealthCheck,
  type HealthReport,
} from './lib/health-check';
export { Readiness } from './lib/readiness';
