export {
  createConfigValidator,
  exitOnInvalidEnvironment,
  InvalidEnvironmentError,
  type ConfigValidator,
} from './lib/config-validator';
export { BaseAppConfig, nestLogLevels } from './lib/base-app.config';
export { IsHttpUrl, IsIntegerInRange, IsPort, IsReadableFile } from './lib/config-decorators';
