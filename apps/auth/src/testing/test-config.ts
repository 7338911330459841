import { ConfigService } from '@nestjs/config';

import { type AuthConfig, validateAuthConfig } from '../config/auth.config';

/** A ConfigService over a validated test environment (specs only). */
export function testConfigService(env: Record<string, string> = {}): ConfigService<AuthConfig, true> {
  return new ConfigService<AuthConfig, true>(validateAuthConfig(env));
}
