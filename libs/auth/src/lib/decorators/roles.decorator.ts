import { SetMetadata } from '@nestjs/common';

import { policyNames } from './policy-names';

export const ROLES_KEY = 'relay:roles';

/**
 * The caller needs at least one of these roles (checked by `AccessTokenGuard`, or by `RolesGuard`
 * after another authentication guard; 403 otherwise). It outweighs `@Public()`: the handler needs a
 * caller. It needs one role at least: an empty list would lift the controller's.
 */
export const Roles = (...roles: string[]): MethodDecorator & ClassDecorator =>
  SetMetadata(ROLES_KEY, policyNames('Roles', roles));
