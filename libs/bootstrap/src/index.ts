export { runService } from './lib/run-service';
export {
  BODY_LIMIT_BYTES,
  createServiceApp,
  natsOptionsFrom,
  type ServiceAppOptions,
  type ServiceConfig,
} from './lib/service-app';
