import { ConfigurableModuleBuilder } from '@nestjs/common';

import type { AuthModuleOptions } from './auth-module-options';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: AUTH_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<AuthModuleOptions>({ moduleName: 'Auth' })
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, { isGlobal }) => ({ ...definition, global: isGlobal }))
  .build();
