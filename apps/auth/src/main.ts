import { createServiceApp, natsOptionsFrom, runService } from '@relay/bootstrap';

import { AppModule } from './app.module';
import { validateAuthConfig } from './config/auth.config';
import { createHttpAdapter } from './http/create-http-adapter';

// jsonOnly false: /oauth/token takes form-encoded bodies (RFC 6749 §4.4.2).
runService('auth', validateAuthConfig, (config) =>
  createServiceApp(AppModule, {
    name: 'auth',
    ...natsOptionsFrom(config),
    logLevel: config.LOG_LEVEL,
    adapter: createHttpAdapter(config),
    jsonOnly: false,
  }),
);
