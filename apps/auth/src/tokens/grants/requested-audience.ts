import { OAuthError } from '../oauth.error';
import type { TokenRequestParams } from '../token-request';

/** The single `audience` (or `resource`) asked for; it must name a known resource server (RFC 8693 §2.1). */
export function readRequestedAudience(
  params: TokenRequestParams,
  known: readonly string[],
): string | undefined {
  const audience = params['audience'] ?? params['resource'];
  if (audience === undefined) return undefined;
  if (!known.includes(audience)) throw new OAuthError('invalid_target', 'Unknown audience');
  return audience;
}
