import { Counter, type Registry } from 'prom-client';

import { CALL_FINISHED_CHANNEL, type FinishedCall } from '@relay/auth';

import { onChannel, type Unsubscribe } from './channel-subscription';

/**
 * The issuer's routes that check a password or a client secret (each failure counted and throttled
 * by the auth app). Only the auth app serves them, so the metric stays empty elsewhere.
 */
const CREDENTIAL_ROUTES: ReadonlySet<string> = new Set([
  'POST /auth/login',
  'POST /auth/password',
  'POST /oauth/token',
]);

const RESULTS: ReadonlyMap<number, string> = new Map([
  [200, 'success'],
  [401, 'failure'],
  [429, 'throttled'],
]);

/**
 * Logins, password changes and client-credential checks by route and result (success, failure: 401,
 * throttled: 429), read from the finished HTTP calls: no auth app code counts them.
 */
export function loginMetrics(registry: Registry): Unsubscribe {
  const attempts = new Counter({
    name: 'relay_auth_login_attempts_total',
    help: 'Password and client-secret checks of the issuer, by route and result (success, failure: 401, throttled: 429)',
    labelNames: ['route', 'result'],
    registers: [registry],
  });
  return onChannel<FinishedCall>(CALL_FINISHED_CHANNEL, (call) => {
    const result = loginResult(call);
    if (result !== undefined) attempts.labels(call.name, result).inc();
  });
}

/** The result of a credential check, or `undefined` when the call checked none (another route, a 400). */
export function loginResult(call: FinishedCall): string | undefined {
  if (call.transport !== 'http' || !CREDENTIAL_ROUTES.has(call.name)) return undefined;
  // POST /auth/password answers 401 for a refused bearer token too: that is a verification, not a password
  if (call.verdict === 'refused') return undefined;
  return RESULTS.get(call.status);
}
