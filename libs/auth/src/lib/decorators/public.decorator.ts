import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC_KEY = 'relay:isPublic';

/**
 * Marks a route or message handler (or a whole controller) as callable without an access token,
 * unless the handler also names `@Roles()` or `@Scopes()`.
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC_KEY, true);
