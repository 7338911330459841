export {
  BODY_LIMIT_BYTES,
  createServiceApp,
  runService,
  type ServiceAppOptions,
  type ServiceConfig,
} from './lib/service-app';
