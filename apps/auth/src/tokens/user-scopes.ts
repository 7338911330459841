import type { Principal } from '@relay/auth';

/** The `client_id` of tokens issued by `/auth/login` and `/auth/refresh` (the Relay web front end). */
export const USER_CLIENT_ID = 'relay-web';

/**
 * Whether `principal` is a token auth issued to a user at a login or refresh, in a login session: not
 * a service's client_credentials token (no `sid`; no client may be named `relay-web`), nor one
 * exchanged for a callee (`act`), which may name the same audience.
 */
export function isUserToken(principal: Principal): boolean {
  return (
    principal.clientId === USER_CLIENT_ID &&
    principal.sessionId !== undefined &&
    principal.actor === undefined
  );
}
