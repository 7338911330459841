import type { FastifyAdapter } from '@nestjs/platform-fastify';

import { createServiceHttpAdapter } from '@relay/bootstrap';

import type { AuthConfig } from '../config/auth.config';

/**
 * The Fastify adapter of the auth app. `request.ip` believes X-Forwarded-For only from
 * AUTH_TRUSTED_PROXY, so the login throttle cannot be dodged with a forged header.
 * Form bodies (`application/x-www-form-urlencoded`) are taken on /oauth/token only (`main.ts`:
 * `formBodyRoutes`; a repeated parameter becomes an array, refused as invalid_request).
 */
export function createHttpAdapter(config: Pick<AuthConfig, 'AUTH_TRUSTED_PROXY'>): FastifyAdapter {
  const trustedProxies = config.AUTH_TRUSTED_PROXY?.split(',').map((entry) => entry.trim());
  return createServiceHttpAdapter(trustedProxies === undefined ? {} : { trustProxy: trustedProxies });
}
