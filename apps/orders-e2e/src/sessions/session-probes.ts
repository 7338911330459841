import { randomUUID } from 'node:crypto';

import { type NatsConnection } from 'nats';

import { InventorySubjects, MessageHeaders } from '@relay/contracts';

import { ADMIN, AUTH_URL, INVENTORY_URL, ORDERS_URL } from '../support/e2e-env';
import { api, type ApiResponse } from '../support/http';
import { requestOnBus } from '../support/nats-bus';

/** The contract's "within 1 s", polled every 50 ms from the moment the auth call returned. */
export const WITHIN_MS = 1000;
const POLL_MS = 50;
const SKU = 'sku-apple';
const PASSWORD = 'correct-horse-battery';

export interface Credentials {
  email: string;
  password: string;
}

/** A registered user (never logged in by this call). */
export interface User extends Credentials {
  id: string;
}

/** One login session's tokens. */
export interface Session {
  accessToken: string;
  refreshToken: string;
}

/** Registers a user with a unique email. */
export async function registerUser(label: string): Promise<User> {
  const credentials = {
    email: `${label}-${randomUUID()}@sessions-e2e.example.com`,
    password: PASSWORD,
  };
  const registered = await api<{ id: string }>('POST', `${AUTH_URL}/auth/register`, {
    body: credentials,
  });
  if (registered.status !== 201) {
    throw new Error(`register answered ${registered.status}: ${JSON.stringify(registered.body)}`);
  }
  return { ...credentials, id: registered.body.id };
}

interface TokenPairBody {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
}

/** POST /auth/login as it answered. */
export function loginAttempt(credentials: Credentials): Promise<ApiResponse<TokenPairBody>> {
  return api<TokenPairBody>('POST', `${AUTH_URL}/auth/login`, {
    body: { email: credentials.email, password: credentials.password },
  });
}

/** Logs in; fails loudly unless auth answers 200. */
export async function login(credentials: Credentials): Promise<Session> {
  const answer = await loginAttempt(credentials);
  if (answer.status !== 200) {
    throw new Error(`login answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  return { accessToken: answer.body.access_token, refreshToken: answer.body.refresh_token };
}

/** The bootstrapped admin (global setup's AUTH_ADMIN_EMAIL / AUTH_ADMIN_PASSWORD), freshly logged in. */
export function loginAdmin(): Promise<Session> {
  return login(ADMIN);
}

/** POST /auth/refresh as it answered. */
export function refresh(refreshToken: string): Promise<ApiResponse<TokenPairBody>> {
  return api<TokenPairBody>('POST', `${AUTH_URL}/auth/refresh`, {
    body: { refresh_token: refreshToken },
  });
}

/** What each resource server made of one token: an HTTP status, or the bus reply's err.status (200 when it answered). */
export interface Verdicts {
  ordersHttp: number;
  inventoryHttp: number;
  bus: number;
}

export const ACCEPTED: Verdicts = { ordersHttp: 200, inventoryHttp: 200, bus: 200 };
export const REFUSED: Verdicts = { ordersHttp: 401, inventoryHttp: 401, bus: 401 };

async function busVerdict(nc: NatsConnection, token: string): Promise<number> {
  const reply = await requestOnBus(
    nc,
    InventorySubjects.stock,
    { sku: SKU },
    { [MessageHeaders.authorization]: `Bearer ${token}` },
  );
  if (reply.err) return reply.err.status ?? 500;
  return (reply.response as { sku?: string } | undefined)?.sku === SKU ? 200 : 500;
}

/**
 * Asks orders (GET /orders), inventory (GET /inventory/sku-apple) and the bus (inventory.stock) at once;
 * `nc` is connected as `orders`, an identity allowed to ask inventory.stock (the token decides the rest).
 */
export async function verdicts(nc: NatsConnection, token: string): Promise<Verdicts> {
  const [orders, inventory, bus] = await Promise.all([
    api('GET', `${ORDERS_URL}/orders`, { token }),
    api('GET', `${INVENTORY_URL}/inventory/${SKU}`, { token }),
    busVerdict(nc, token),
  ]);
  return { ordersHttp: orders.status, inventoryHttp: inventory.status, bus };
}

/** The time each verdict first reached its wanted value, in ms after `since`. */
export type Settled = Partial<Record<keyof Verdicts, number>>;

/**
 * Polls every 50 ms from `since` (when the auth call returned) until every verdict named in
 * `wanted` equals it (the others are not looked at); throws when a probe sent later than `since + WITHIN_MS` is still needed. A verdict
 * counts at the moment its probe was sent, so slow answers do not stretch the deadline.
 */
export async function settlesWithin(
  nc: NatsConnection,
  token: string,
  wanted: Partial<Verdicts>,
  since: number,
): Promise<Settled> {
  const settled: Settled = {};
  const names = Object.keys(wanted) as (keyof Verdicts)[];
  let last: Verdicts | undefined;
  for (let sentAt = Date.now(); sentAt - since <= WITHIN_MS; sentAt = Date.now()) {
    last = await verdicts(nc, token);
    for (const key of names) {
      if (last[key] === wanted[key]) settled[key] ??= sentAt - since;
      // a verdict that flips back is not settled
      else delete settled[key];
    }
    if (Object.keys(settled).length === names.length) return settled;
    await new Promise((done) => setTimeout(done, Math.max(0, sentAt + POLL_MS - Date.now())));
  }
  throw new Error(`not ${JSON.stringify(wanted)} within ${WITHIN_MS} ms; last seen ${JSON.stringify(last)}`);
}

/** POST with the admin's token; answers as-is. */
export function adminPost<T = unknown>(admin: Session, path: string): Promise<ApiResponse<T>> {
  return api<T>('POST', `${AUTH_URL}${path}`, { token: admin.accessToken });
}
