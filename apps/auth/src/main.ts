import { createServiceApp, natsOptionsFrom, runService } from '@relay/bootstrap';

import { AppModule } from './app.module';
import { validateAuthConfig } from './config/auth.config';
import { createHttpAdapter } from './http/create-http-adapter';
import { OAUTH_TOKEN_ROUTE } from './tokens/oauth-token.controller';

// /oauth/token also takes form-encoded bodies (RFC 6749 §4.4.2); every other route JSON only.
runService('auth', validateAuthConfig, (config) =>
  createServiceApp(AppModule, {
    name: 'auth',
    ...natsOptionsFrom(config),
    logLevel: config.LOG_LEVEL,
    adapter: createHttpAdapter(config),
    formBodyRoutes: [OAUTH_TOKEN_ROUTE],
  }),
);
