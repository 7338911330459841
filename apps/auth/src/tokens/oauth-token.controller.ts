import { Body, Controller, HttpCode, HttpStatus, Post, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiServiceUnavailableResponse,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { Public, readRequestHeader } from '@relay/auth';
import { ErrorResponse } from '@relay/observability';

import { LoginThrottledException } from '../sessions/login-attempts';
import { ClientCredentialsGrant } from './grants/client-credentials.grant';
import { CLIENT_CREDENTIALS_GRANT, TOKEN_EXCHANGE_GRANT } from './grants/grant-types';
import { TokenExchangeGrant } from './grants/token-exchange.grant';
import { OAuthError } from './oauth.error';
import { OAuthErrorResponse, OAuthTokenResponse } from './oauth-token.response';
import { ServiceClientsRegistry } from './service-clients.registry';
import { readClientCredentials, readTokenRequest, type TokenRequestParams } from './token-request';

// RFC 6749 §4.4.2 and RFC 8693 §2.1 parameters, sent as a form (unknown ones ignored) or as JSON (refused)
const TOKEN_REQUEST_SCHEMA = {
  type: 'object',
  required: ['grant_type'],
  properties: {
    grant_type: { type: 'string', enum: [CLIENT_CREDENTIALS_GRANT, TOKEN_EXCHANGE_GRANT] },
    client_id: { type: 'string', description: 'With client_secret, unless sent as HTTP Basic' },
    client_secret: { type: 'string', format: 'password' },
    scope: { type: 'string', description: 'Space-separated; client_credentials only' },
    subject_token: { type: 'string', description: 'Token exchange: the caller access token' },
    subject_token_type: { type: 'string', example: 'urn:ietf:params:oauth:token-type:access_token' },
    audience: { type: 'string', description: 'Token exchange: the service the new token is for' },
  },
};

/** The token endpoint's route, the one route of auth that also takes form bodies (`main.ts`). */
export const OAUTH_TOKEN_ROUTE = '/oauth/token';

/** RFC 6749 token endpoint for service clients: client_credentials and token exchange. */
@Public()
@Controller('oauth')
export class OAuthTokenController {
  constructor(
    private readonly clients: ServiceClientsRegistry,
    private readonly clientCredentials: ClientCredentialsGrant,
    private readonly tokenExchange: TokenExchangeGrant,
  ) {}

  // the body is read by hand: a form's unknown parameters are ignored (RFC 6749 §3.2), and OAuth answers in its own error format
  @Post('token')
  @HttpCode(HttpStatus.OK)
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody({ schema: TOKEN_REQUEST_SCHEMA })
  @ApiOkResponse({ type: OAuthTokenResponse })
  @ApiBadRequestResponse({
    type: OAuthErrorResponse,
    description:
      '`invalid_request`, `invalid_grant`, `unsupported_grant_type`, `invalid_scope` or `invalid_target` (RFC 6749 §5.2, RFC 8693)',
  })
  @ApiUnauthorizedResponse({
    type: OAuthErrorResponse,
    description: '`invalid_client`: client authentication failed',
    headers: {
      'WWW-Authenticate': {
        description:
          '`Bearer error="invalid_token"`, as on every 401, and `Basic realm="relay", charset="UTF-8"` as well when the client authenticated with HTTP Basic',
        schema: { type: 'string' },
      },
    },
  })
  @ApiTooManyRequestsResponse({
    type: OAuthErrorResponse,
    description: '`temporarily_unavailable`: too many failed client authentications',
    headers: {
      'Retry-After': { description: 'Seconds until another attempt is counted', schema: { type: 'integer' } },
    },
  })
  @ApiServiceUnavailableResponse({
    type: ErrorResponse,
    description:
      'auth cannot answer now (its database, its password hashing at capacity, or for a token exchange its revocation list not replayed since it started); retry later',
  })
  async token(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<OAuthTokenResponse | OAuthErrorResponse> {
    reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
    const authorization = readRequestHeader(request, 'authorization');
    try {
      // request.ip honours X-Forwarded-For only from AUTH_TRUSTED_PROXY (Fastify trustProxy)
      return await this.grant(readTokenRequest(body, bodyFormat(request)), authorization, request.ip);
    } catch (error) {
      if (error instanceof LoginThrottledException) {
        reply.status(HttpStatus.TOO_MANY_REQUESTS).header('Retry-After', String(error.retryAfterSeconds));
        return { error: 'temporarily_unavailable', error_description: error.message };
      }
      if (!(error instanceof OAuthError)) throw error;
      reply.status(error.status);
      if (error.status === HttpStatus.UNAUTHORIZED) {
        reply.header('WWW-Authenticate', challenges(authorization));
      }
      return { error: error.code, error_description: error.description };
    }
  }

  private async grant(
    params: TokenRequestParams,
    authorization: string | string[] | undefined,
    clientAddress: string,
  ): Promise<OAuthTokenResponse> {
    const grantType = params['grant_type'];
    if (grantType === undefined) throw new OAuthError('invalid_request', 'grant_type is required');
    if (grantType !== CLIENT_CREDENTIALS_GRANT && grantType !== TOKEN_EXCHANGE_GRANT) {
      throw new OAuthError('unsupported_grant_type', 'Supported: client_credentials, token exchange');
    }
    const client = await this.clients.authenticate(
      readClientCredentials(params, authorization),
      clientAddress,
    );
    return grantType === CLIENT_CREDENTIALS_GRANT
      ? this.clientCredentials.grant(client, params)
      : this.tokenExchange.grant(client, params);
  }
}

// the body parsers take JSON and forms alone (anything else is a 415 before this)
function bodyFormat(request: FastifyRequest): 'form' | 'json' {
  const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  return type === 'application/json' ? 'json' : 'form';
}

// Every 401 carries the Bearer challenge; a failed HTTP Basic authentication also gets a Basic one
// (RFC 6749 §5.2: a challenge matching the scheme the client used), as a second header line
function challenges(authorization: string | string[] | undefined): string[] {
  const bearer = 'Bearer error="invalid_token"';
  return authorization === undefined ? [bearer] : [bearer, 'Basic realm="relay", charset="UTF-8"'];
}
