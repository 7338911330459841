import { SetMetadata } from '@nestjs/common';

import type { Role } from '@relay/contracts';

export const ROLES_KEY = 'relay:roles';

/** The caller needs at least one of these roles (checked by `RolesGuard`; 403 otherwise). */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator => SetMetadata(ROLES_KEY, roles);
