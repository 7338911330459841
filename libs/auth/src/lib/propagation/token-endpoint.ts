import { Logger, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';

/** RFC 8693 §2.1 grant type and token type URIs. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** An access token obtained from the token endpoint. */
export interface ObtainedToken {
  accessToken: string;
  /** `expires_in` (seconds), when the endpoint sent one. */
  expiresInSeconds?: number;
}

/** Where and as whom to ask for tokens. */
export interface TokenEndpointOptions {
  url: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
}

const logger = new Logger('TokenEndpoint');

/**
 * POSTs a form-encoded token request with HTTP Basic client authentication (RFC 6749 §2.3.1, §4.4;
 * RFC 8693 §2.1), with `traceHeaders` (the call's `traceparent` and `x-request-id`) so the issuer's
 * access line and span join the call that needed the token. A refusal of the grant itself
 * (`invalid_grant`: the caller's token is not one the issuer will exchange) rejects with
 * `UnauthorizedException`, the caller's 401; any other refusal (this service's own client refused:
 * `invalid_client` after a secret rotated on one side only, `invalid_scope`, a throttle) and an
 * unreachable or failing endpoint with `ServiceUnavailableException`: a fault of this deployment,
 * never answered to a caller as a bad token of theirs.
 */
export async function requestToken(
  options: TokenEndpointOptions,
  params: Record<string, string>,
  traceHeaders: Record<string, string> = {},
): Promise<ObtainedToken> {
  let response: Response;
  try {
    response = await fetch(options.url, {
      method: 'POST',
      headers: {
        ...traceHeaders,
        authorization: basicCredentials(options.clientId, options.clientSecret),
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams(params).toString(),
      // a 307/308 would post the body again where it points, the caller's token (subject_token) with
      // it: fetch drops the Basic credentials on another origin, never the body
      redirect: 'error',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    logger.warn(
      `Token endpoint ${options.url} unreachable: ${error instanceof Error ? error.message : String(error)}`,
    );
    throw new ServiceUnavailableException('Token endpoint unavailable');
  }
  const body = await response.json().catch((): unknown => undefined);
  if (response.status >= 400 && response.status < 500) {
    const code = oauthErrorCode(body);
    logger.warn(`Token endpoint refused ${params['grant_type']}: ${response.status} ${code}`);
    if (code === 'invalid_grant') {
      throw new UnauthorizedException('The issuer refused to grant a token for this call');
    }
    throw new ServiceUnavailableException('The issuer refused this service its token');
  }
  const token = readTokenResponse(body);
  if (!response.ok || token === undefined) {
    logger.warn(`Token endpoint ${options.url} answered ${response.status} without a usable token`);
    throw new ServiceUnavailableException('Token endpoint unavailable');
  }
  return token;
}

// RFC 6749 §2.3.1: id and secret are form-urlencoded before base64
function basicCredentials(clientId: string, clientSecret: string): string {
  const encode = (value: string): string => new URLSearchParams({ v: value }).toString().slice(2);
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

function readTokenResponse(body: unknown): ObtainedToken | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const {
    access_token: accessToken,
    token_type: tokenType,
    expires_in: expiresIn,
  } = body as Record<string, unknown>;
  if (typeof accessToken !== 'string' || accessToken === '') return undefined;
  if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') return undefined;
  return typeof expiresIn === 'number' && Number.isFinite(expiresIn)
    ? { accessToken, expiresInSeconds: expiresIn }
    : { accessToken };
}

function oauthErrorCode(body: unknown): string {
  const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  return typeof error === 'string' ? error.slice(0, 64) : 'no error code';
}
