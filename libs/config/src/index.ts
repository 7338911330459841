export {
  createConfigValidator,
  exitOnInvalidEnvironment,
  InvalidEnvironmentError,
  type ConfigValidator,
} from './lib/config-validator';
export { BaseAppConfig, nestLogLevels, type RelayLogFormat, type RelayLogLevel } from './lib/base-app.config';
export { IsHttpUrl, IsIntegerInRange, IsPort, IsReadableFile } from './lib/config-decorators';
export { serviceConfigModule } from './lib/service-config.module';
