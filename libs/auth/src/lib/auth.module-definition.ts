import { ConfigurableModuleBuilder } from '@nestjs/common';

import type { AuthModuleOptions } from './auth-module-options';

/**
 * Options of `forRoot()` / `forRootAsync()` that shape the module itself, so they sit beside
 * `useFactory`, never inside what it returns (a factory's result cannot add or remove providers).
 */
export interface AuthModuleExtras {
  /** Register the module's providers globally. Default: `true`. */
  isGlobal: boolean;
  /**
   * Install `AccessTokenGuard` as an `APP_GUARD`, so every HTTP route and NATS handler (of a
   * microservice connected with `inheritAppConfig: true`) needs a verified caller unless it is
   * `@Public()`. Default: `true`; only `false` turns it off, and nothing else does. `false` leaves every
   * handler open until the app guards it itself (e.g. `@UseGuards(AuthGuard('jwt'), RolesGuard)` on
   * HTTP routes and `@UseGuards(AccessTokenGuard, RolesGuard)` on NATS handlers: passport is HTTP only).
   */
  installGlobalGuard: boolean;
}

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: AUTH_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<AuthModuleOptions>({ moduleName: 'Auth' })
  .setClassMethodName('forRoot')
  // the app-wide guard and filter are added by AuthModule itself (auth.module.ts), which owns those classes
  .setExtras<AuthModuleExtras>({ isGlobal: true, installGlobalGuard: true }, (definition, { isGlobal }) => ({
    ...definition,
    global: isGlobal,
  }))
  .build();
