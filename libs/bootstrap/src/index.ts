export {
  BODY_LIMIT_BYTES,
  createServiceApp,
  natsOptionsFrom,
  runService,
  type ServiceAppOptions,
  type ServiceConfig,
} from './lib/service-app';
