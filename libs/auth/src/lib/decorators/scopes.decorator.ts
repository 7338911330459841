import { SetMetadata } from '@nestjs/common';

export const SCOPES_KEY = 'relay:scopes';

/** The caller's token needs every one of these scopes (checked by `RolesGuard`; 403 otherwise). */
export const Scopes = (...scopes: string[]): MethodDecorator & ClassDecorator => SetMetadata(SCOPES_KEY, scopes);
