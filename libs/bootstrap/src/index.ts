export { type DrainOutcome, GracefulShutdown, type ShutdownSettings } from './lib/graceful-shutdown';
export { runService } from './lib/run-service';
export {
  type Dependency,
  StartupError,
  waitForDependencies,
  type WaitSettings,
  withoutCredentials,
} from './lib/wait-for-dependencies';
export {
  BODY_LIMIT_BYTES,
  createServiceApp,
  createServiceHttpAdapter,
  natsOptionsFrom,
  type ServiceAppOptions,
  type ServiceConfig,
} from './lib/service-app';
export { LifecycleConfig, validateLifecycleConfig } from './lib/lifecycle.config';
