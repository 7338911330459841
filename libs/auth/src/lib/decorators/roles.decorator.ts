import { SetMetadata } from '@nestjs/common';

export const ROLES_KEY = 'relay:roles';

/**
 * The caller needs at least one of these roles (checked by `AccessTokenGuard`, or by `RolesGuard`
 * after another authentication guard; 403 otherwise). It outweighs `@Public()`: the handler needs a
 * caller.
 */
export const Roles = (...roles: string[]): MethodDecorator & ClassDecorator => SetMetadata(ROLES_KEY, roles);
