import { SetMetadata } from '@nestjs/common';

import { policyNames } from './policy-names';

export const SCOPES_KEY = 'relay:scopes';

/**
 * The caller's token needs every one of these scopes (checked like `@Roles()`; 403 otherwise). It
 * outweighs `@Public()`: the handler needs a caller. It needs one scope at least, as `@Roles()`.
 */
export const Scopes = (...scopes: string[]): MethodDecorator & ClassDecorator =>
  SetMetadata(SCOPES_KEY, policyNames('Scopes', scopes));
