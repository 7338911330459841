import { Controller, Get, Header } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { JSONWebKeySet } from 'jose';

import { Public } from '@relay/auth';

import type { AuthConfig } from '../config/auth.config';
import { CLIENT_CREDENTIALS_GRANT, TOKEN_EXCHANGE_GRANT } from '../tokens/grants/grant-types';
import { ALL_USER_SCOPES } from '../tokens/user-scopes';
import { SIGNING_ALGORITHM, SigningKeysService } from './signing-keys.service';

/** Discovery (RFC 8414 / OIDC Discovery) and the JWKS; public. */
@Public()
@Controller('.well-known')
export class WellKnownController {
  private readonly issuer: string;

  constructor(
    private readonly keys: SigningKeysService,
    config: ConfigService<AuthConfig, true>,
  ) {
    this.issuer = config.get('AUTH_ISSUER', { infer: true });
  }

  @Get('jwks.json')
  // no shared caching: after a rotation, verifiers must see the new key on their next fetch
  @Header('Cache-Control', 'no-cache')
  jwks(): Promise<JSONWebKeySet> {
    return this.keys.jwks();
  }

  @Get('openid-configuration')
  @Header('Cache-Control', 'public, max-age=300')
  configuration(): Record<string, unknown> {
    const base = this.issuer.replace(/\/+$/, '');
    return {
      // RFC 8414 §3.3: identical to the `iss` of issued tokens
      issuer: this.issuer,
      jwks_uri: `${base}/.well-known/jwks.json`,
      token_endpoint: `${base}/oauth/token`,
      grant_types_supported: [CLIENT_CREDENTIALS_GRANT, TOKEN_EXCHANGE_GRANT],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      scopes_supported: [...ALL_USER_SCOPES],
      access_token_signing_alg_values_supported: [SIGNING_ALGORITHM],
      claims_supported: [
        'iss',
        'sub',
        'aud',
        'exp',
        'iat',
        'jti',
        'client_id',
        'sid',
        'roles',
        'scope',
        'act',
      ],
    };
  }
}
