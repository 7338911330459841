import type { Provider } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';

import { TransportExceptionFilter } from './errors/transport-exception.filter';
import { AccessTokenGuard } from './guards/access-token.guard';

/**
 * The app-wide providers of a service using `AuthModule`: `AccessTokenGuard` (who is calling, and
 * may they: `@Roles()`, `@Scopes()`) and `TransportExceptionFilter`, so HTTP and NATS callers get
 * the same errors. Spread into the root module's `providers`; as `APP_*` providers they also reach
 * NATS handlers.
 */
export function authAppProviders(): Provider[] {
  return [
    { provide: APP_GUARD, useClass: AccessTokenGuard },
    { provide: APP_FILTER, useClass: TransportExceptionFilter },
  ];
}
