import { SetMetadata } from '@nestjs/common';

export const SCOPES_KEY = 'relay:scopes';

/**
 * The caller's token needs every one of these scopes (checked like `@Roles()`; 403 otherwise). It
 * outweighs `@Public()`: the handler needs a caller.
 */
export const Scopes = (...scopes: string[]): MethodDecorator & ClassDecorator =>
  SetMetadata(SCOPES_KEY, scopes);
