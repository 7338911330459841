import { OAuthError } from './oauth.error';

/** Token endpoint parameters (form or JSON), each present at most once and a string. */
export type TokenRequestParams = Readonly<Record<string, string>>;

/** Client credentials as presented, before authentication. */
export interface PresentedClientCredentials {
  clientId: string;
  clientSecret: string;
  /** `basic` (Authorization header) or `post` (body). */
  method: 'basic' | 'post';
}

// RFC 6749's and RFC 8693's parameter names: lower-case words joined by '_'
const PARAMETER_NAME = /^[a-z][a-z_]{0,63}$/;

/** What the endpoint reads (RFC 6749, RFC 8693): a JSON body naming anything else is refused. */
const KNOWN_PARAMETERS: ReadonlySet<string> = new Set([
  'grant_type',
  'client_id',
  'client_secret',
  'scope',
  'audience',
  'resource',
  'subject_token',
  'subject_token_type',
  'requested_token_type',
  'actor_token',
  'actor_token_type',
]);

/**
 * Parameters are strings sent once. A form's unknown ones are ignored (RFC 6749 §3.2); a JSON body's
 * are refused, as on every other JSON call (CONTRACT: unknown JSON fields are refused with 400).
 */
export function readTokenRequest(body: unknown, format: 'form' | 'json'): TokenRequestParams {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new OAuthError('invalid_request', 'Send the token request as a form or a JSON object');
  }
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) {
    if (format === 'json' && !KNOWN_PARAMETERS.has(name)) {
      // named only when it is a name: a JSON key may be a secret sent in the wrong place
      throw new OAuthError(
        'invalid_request',
        PARAMETER_NAME.test(name) ? `Unknown parameter ${name}` : 'Unknown parameter',
      );
    }
    if (typeof value !== 'string') {
      // named only when it is a name: a secret with an unencoded '&' splits into a parameter named by its tail
      const description = PARAMETER_NAME.test(name)
        ? `Parameter ${name} must be one string`
        : 'Each parameter must be one string';
      throw new OAuthError('invalid_request', description);
    }
    params[name] = value;
  }
  return params;
}

/** RFC 6749 §2.3.1: HTTP Basic or body credentials, never both. */
export function readClientCredentials(
  params: TokenRequestParams,
  authorization: string | string[] | undefined,
): PresentedClientCredentials {
  // several Authorization headers are ambiguous credentials (Node would keep the first)
  if (Array.isArray(authorization)) throw new OAuthError('invalid_request', 'Send one Authorization header');
  const basic = authorization === undefined ? undefined : parseBasic(authorization);
  const hasBodySecret = params['client_secret'] !== undefined;
  if (basic !== undefined && hasBodySecret) {
    throw new OAuthError('invalid_request', 'Use one client authentication method, not two');
  }
  if (basic !== undefined) {
    if (params['client_id'] !== undefined && params['client_id'] !== basic.clientId) {
      throw new OAuthError('invalid_request', 'client_id differs from the authenticated client');
    }
    return basic;
  }
  const clientId = params['client_id'];
  const clientSecret = params['client_secret'];
  if (clientId === undefined || clientSecret === undefined) {
    throw new OAuthError('invalid_client', 'Client authentication failed');
  }
  return { clientId, clientSecret, method: 'post' };
}

function parseBasic(authorization: string): PresentedClientCredentials {
  const match = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(authorization);
  if (match === null) throw new OAuthError('invalid_client', 'Client authentication failed');
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  if (separator < 0) throw new OAuthError('invalid_client', 'Client authentication failed');
  try {
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before base64
    return {
      clientId: decodeURIComponent(decoded.slice(0, separator).replace(/\+/g, ' ')),
      clientSecret: decodeURIComponent(decoded.slice(separator + 1).replace(/\+/g, ' ')),
      method: 'basic',
    };
  } catch {
    throw new OAuthError('invalid_client', 'Client authentication failed');
  }
}

/** Space-separated scope parameter (RFC 6749 §3.3); `undefined` when absent. */
export function readScopes(params: TokenRequestParams): string[] | undefined {
  const scope = params['scope'];
  if (scope === undefined) return undefined;
  const scopes = scope.split(' ').filter((item) => item !== '');
  if (scopes.length === 0) throw new OAuthError('invalid_scope', 'scope is empty');
  return [...new Set(scopes)];
}
