export { type DrainOutcome, GracefulShutdown, type ShutdownSettings } from './lib/graceful-shutdown';
export { runService } from './lib/run-service';
export {
  BODY_LIMIT_BYTES,
  createServiceApp,
  createServiceHttpAdapter,
  natsOptionsFrom,
  type ServiceAppOptions,
  type ServiceConfig,
} from './lib/service-app';
export { ShutdownConfig, validateShutdownConfig } from './lib/shutdown.config';
