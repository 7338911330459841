import { Injectable } from '@nestjs/common';

import { OAuthError } from '../oauth.error';
import type { OAuthTokenResponse } from '../oauth-token.response';
import type { ServiceClient } from '../service-clients.registry';
import { TokenIssuer } from '../token-issuer.service';
import { readScopes, type TokenRequestParams } from '../token-request';
import { readRequestedAudience } from './requested-audience';

/** RFC 6749 §4.4: a token for the client itself (`sub` = client id, no user roles). */
@Injectable()
export class ClientCredentialsGrant {
  constructor(private readonly issuer: TokenIssuer) {}

  async grant(client: ServiceClient, params: TokenRequestParams): Promise<OAuthTokenResponse> {
    const requested = readScopes(params);
    if (requested !== undefined && !requested.every((scope) => client.scopes.includes(scope))) {
      throw new OAuthError('invalid_scope', 'Requested scope exceeds what this client may ask for');
    }
    const scope = (requested ?? client.scopes).join(' ');
    const audience = readRequestedAudience(params, this.issuer.resourceAudiences);
    const issued = await this.issuer.issue({
      sub: client.id,
      aud: audience === undefined ? [...this.issuer.resourceAudiences] : [audience],
      clientId: client.id,
      roles: [],
      scope,
    });
    return { access_token: issued.accessToken, token_type: 'Bearer', expires_in: issued.expiresIn, scope };
  }
}
