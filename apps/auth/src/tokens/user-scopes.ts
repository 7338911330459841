import type { Principal } from '@relay/auth';

/** The `client_id` of tokens issued by `/auth/login` and `/auth/refresh` (the Relay web front end). */
export const USER_CLIENT_ID = 'relay-web';

/**
 * Whether `principal` is a token auth issued to a user at a login or refresh: not a service's
 * client_credentials token, nor one exchanged for a callee (both may name the same audience).
 */
export function isUserToken(principal: Principal): boolean {
  return principal.clientId === USER_CLIENT_ID && principal.actor === undefined;
}
