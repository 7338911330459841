import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';

import type { Principal } from '../access-token/access-token';
import { AccessTokenVerifier } from '../access-token/access-token-verifier';
import { AccessTokenStrategy } from './access-token.strategy';

/** Passport name of `RelayJwtStrategy`: use `AuthGuard('jwt')`. */
export const RELAY_JWT_STRATEGY = 'jwt';

/**
 * `@nestjs/passport` strategy `'jwt'` for apps that prefer `@UseGuards(AuthGuard('jwt'))`: same verdicts
 * as `AccessTokenGuard` (it delegates to `AccessTokenVerifier`), HTTP only; `request.user` is the
 * `Principal`. Add it to an app's `providers` next to `AuthModule`; it is not registered by default.
 * An app that authenticates with it instead of the global guard imports `AuthModule` with
 * `installGlobalGuard: false`.
 */
@Injectable()
export class RelayJwtStrategy extends PassportStrategy(AccessTokenStrategy, RELAY_JWT_STRATEGY) {
  constructor(verifier: AccessTokenVerifier) {
    super(verifier);
  }

  /** The verified caller becomes `request.user`; override to map or refuse (return `false`). */
  validate(principal: Principal): Principal {
    return principal;
  }
}
