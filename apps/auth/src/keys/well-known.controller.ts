import { Controller, Get, Header } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiOkResponse } from '@nestjs/swagger';
import type { JSONWebKeySet } from 'jose';

import { Public } from '@relay/auth';
import { ALL_USER_SCOPES } from '@relay/contracts';

import type { AuthConfig } from '../config/auth.config';
import { CLIENT_CREDENTIALS_GRANT, TOKEN_EXCHANGE_GRANT } from '../tokens/grants/grant-types';
import { SIGNING_ALGORITHM, SigningKeysService } from './signing-keys.service';

// the public signing keys (RFC 7517): EC P-256 for ES256
const JWKS_SCHEMA = {
  type: 'object',
  required: ['keys'],
  properties: {
    keys: {
      type: 'array',
      items: {
        type: 'object',
        required: ['kid', 'alg', 'use', 'kty'],
        properties: {
          kid: { type: 'string' },
          alg: { type: 'string', example: SIGNING_ALGORITHM },
          use: { type: 'string', enum: ['sig'] },
          kty: { type: 'string', example: 'EC' },
          crv: { type: 'string', example: 'P-256' },
          x: { type: 'string' },
          y: { type: 'string' },
        },
      },
    },
  },
};

const DISCOVERY_SCHEMA = {
  type: 'object',
  required: ['issuer', 'jwks_uri', 'token_endpoint'],
  properties: {
    issuer: { type: 'string', format: 'uri', description: 'The `iss` of every issued token' },
    jwks_uri: { type: 'string', format: 'uri' },
    token_endpoint: { type: 'string', format: 'uri' },
    grant_types_supported: { type: 'array', items: { type: 'string' } },
    token_endpoint_auth_methods_supported: { type: 'array', items: { type: 'string' } },
    scopes_supported: { type: 'array', items: { type: 'string' } },
    access_token_signing_alg_values_supported: { type: 'array', items: { type: 'string' } },
    claims_supported: { type: 'array', items: { type: 'string' } },
  },
};

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
  @ApiOkResponse({ description: 'Public keys only', schema: JWKS_SCHEMA })
  jwks(): Promise<JSONWebKeySet> {
    return this.keys.jwks();
  }

  @Get('openid-configuration')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOkResponse({ description: 'Authorization server metadata (RFC 8414)', schema: DISCOVERY_SCHEMA })
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
