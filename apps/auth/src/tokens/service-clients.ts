import { USER_CLIENT_ID } from './user-scopes';

/** A service client from `AUTH_CLIENTS` (secret still in clear; hashed by `ServiceClientsRegistry`). */
export interface ServiceClientEntry {
  id: string;
  secret: string;
  /** Scopes the client may ask for; empty: none. */
  scopes: string[];
}

const CLIENT_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** Shorter secrets are refused at start: client authentication is guessable online otherwise. */
export const MIN_CLIENT_SECRET_CHARACTERS = 32;
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+$/; // RFC 6749 §3.3 scope-token

/**
 * Parses `id:secret[:scope scope…]` entries separated by commas. Throws (without echoing any
 * secret) on a malformed entry, a duplicate id or a secret shorter than 32 characters.
 */
export function parseServiceClients(value: string | undefined): ServiceClientEntry[] {
  if (value === undefined || value.trim() === '') return [];
  const clients = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry, index) => parseEntry(entry, index));
  const ids = new Set(clients.map((client) => client.id));
  if (ids.size !== clients.length) throw new Error('AUTH_CLIENTS has a duplicate client id');
  return clients;
}

function parseEntry(entry: string, index: number): ServiceClientEntry {
  // scopes may contain ':' (orders:read), so only the first two colons separate fields
  const firstColon = entry.indexOf(':');
  const secondColon = firstColon < 0 ? -1 : entry.indexOf(':', firstColon + 1);
  const id = firstColon < 0 ? entry : entry.slice(0, firstColon);
  const secret = firstColon < 0 ? '' : entry.slice(firstColon + 1, secondColon < 0 ? undefined : secondColon);
  const scopeList = secondColon < 0 ? '' : entry.slice(secondColon + 1);
  if (!CLIENT_ID.test(id)) throw new Error(`AUTH_CLIENTS entry ${index + 1} must be id:secret[:scopes]`);
  // its tokens would pass for a user's on auth's own routes (see isUserToken)
  if (id === USER_CLIENT_ID) {
    throw new Error(
      `AUTH_CLIENTS entry ${index + 1} may not be named ${USER_CLIENT_ID}: auth's user tokens carry it`,
    );
  }
  if (secret.length < MIN_CLIENT_SECRET_CHARACTERS) {
    throw new Error(
      `AUTH_CLIENTS entry ${index + 1} needs a secret of at least ${MIN_CLIENT_SECRET_CHARACTERS} characters`,
    );
  }
  const scopes = [...new Set(scopeList.split(' ').filter((scope) => scope !== ''))];
  if (!scopes.every((scope) => SCOPE.test(scope))) {
    throw new Error(`AUTH_CLIENTS entry ${index + 1} has an invalid scope`);
  }
  return { id, secret, scopes };
}
