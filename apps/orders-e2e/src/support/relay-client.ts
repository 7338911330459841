import { randomUUID } from 'node:crypto';

import { type StockItem, type StockLevel } from '@relay/contracts';

import { ADMIN } from './e2e-env';
import { api, type ApiResponse } from './http';
import { recordBodySecrets } from './log-scan';

/** Every HTTP call of a fault spec is bounded: a hang fails the test instead of the suite. */
const CALL_TIMEOUT_MS = 20_000;

/** The password of every user {@link RelayClient.newUser} registers. */
export const USER_PASSWORD = 'correct-horse-battery';

/** A registered user with the tokens of one login. */
export interface RelayUser {
  id: string;
  email: string;
  password: string;
  accessToken: string;
}

/** An order as the orders API answers it. */
export interface OrderBody {
  id: string;
  userId: string;
  status: 'pending' | 'confirmed' | 'rejected' | 'failed';
  items: StockItem[];
  createdAt: string;
  reason?: string;
}

/** An answer and how long it took. */
export type TimedResponse<T> = ApiResponse<T> & { elapsedMs: number };

export interface RelayUrls {
  authUrl: string;
  ordersUrl: string;
  inventoryUrl: string;
}

/** The HTTP API of one set of apps (a fault cluster or the shared e2e apps). */
export class RelayClient {
  constructor(private readonly urls: RelayUrls) {}

  /** `POST /auth/login`; the password and the tokens answered are recorded for the run's log scan. */
  async login(email: string, password: string): Promise<ApiResponse<{ access_token?: string }>> {
    const body = { email, password };
    recordBodySecrets(body);
    const answer = await api<{ access_token?: string }>('POST', `${this.urls.authUrl}/auth/login`, {
      body,
      timeoutMs: CALL_TIMEOUT_MS,
    });
    recordBodySecrets(answer.body);
    return answer;
  }

  /** Registers a user with a unique email and logs in; throws when either step fails. */
  async newUser(prefix = 'buyer'): Promise<RelayUser> {
    const email = `${prefix}-${randomUUID()}@orders-e2e.example.com`;
    const password = USER_PASSWORD;
    recordBodySecrets({ password });
    const registered = await api<{ id: string }>('POST', `${this.urls.authUrl}/auth/register`, {
      body: { email, password },
      timeoutMs: CALL_TIMEOUT_MS,
    });
    if (registered.status !== 201) {
      throw new Error(`register answered ${registered.status}: ${JSON.stringify(registered.body)}`);
    }
    return { id: registered.body.id, email, password, accessToken: await this.accessToken(email, password) };
  }

  /** A fresh access token of the bootstrapped admin. */
  adminToken(): Promise<string> {
    return this.accessToken(ADMIN.email, ADMIN.password);
  }

  async accessToken(email: string, password: string): Promise<string> {
    const login = await this.login(email, password);
    if (login.status !== 200 || login.body.access_token === undefined) {
      throw new Error(`login of ${email} answered ${login.status}: ${JSON.stringify(login.body)}`);
    }
    return login.body.access_token;
  }

  /** Admin `PUT /inventory/:sku`; throws unless 200. */
  async setStock(adminToken: string, sku: string, available: number): Promise<void> {
    const answer = await api('PUT', `${this.urls.inventoryUrl}/inventory/${sku}`, {
      token: adminToken,
      body: { available },
      timeoutMs: CALL_TIMEOUT_MS,
    });
    if (answer.status !== 200) {
      throw new Error(`PUT /inventory/${sku} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    }
  }

  /** `GET /inventory/:sku` → available; throws unless 200. */
  async available(token: string, sku: string): Promise<number> {
    const answer = await api<StockLevel>('GET', `${this.urls.inventoryUrl}/inventory/${sku}`, {
      token,
      timeoutMs: CALL_TIMEOUT_MS,
    });
    if (answer.status !== 200) {
      throw new Error(`GET /inventory/${sku} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    }
    return answer.body.available;
  }

  async placeOrder(
    token: string,
    items: StockItem[],
    headers: Record<string, string> = {},
  ): Promise<TimedResponse<OrderBody>> {
    const started = Date.now();
    const answer = await api<OrderBody>('POST', `${this.urls.ordersUrl}/orders`, {
      token,
      body: { items },
      headers,
      timeoutMs: CALL_TIMEOUT_MS,
    });
    return { ...answer, elapsedMs: Date.now() - started };
  }

  getOrder(token: string, id: string): Promise<ApiResponse<OrderBody>> {
    return api<OrderBody>('GET', `${this.urls.ordersUrl}/orders/${id}`, {
      token,
      timeoutMs: CALL_TIMEOUT_MS,
    });
  }

  /** `GET /orders`; throws unless 200. */
  async listOrders(token: string): Promise<OrderBody[]> {
    const answer = await api<OrderBody[]>('GET', `${this.urls.ordersUrl}/orders`, {
      token,
      timeoutMs: CALL_TIMEOUT_MS,
    });
    if (answer.status !== 200) {
      throw new Error(`GET /orders answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    }
    return answer.body;
  }
}

/** Sum of the quantities of `sku` over the orders given. */
export function quantityOf(orders: readonly Pick<OrderBody, 'items'>[], sku: string): number {
  return orders
    .flatMap((order) => order.items)
    .filter((item) => item.sku === sku)
    .reduce((sum, item) => sum + item.quantity, 0);
}

/** Polls `probe` every `intervalMs` until it answers true; throws with `describe()` after `timeoutMs`. */
export async function eventually(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  describe: () => string | Promise<string>,
  intervalMs = 250,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let lastError = '';
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = ` (last error: ${error instanceof Error ? error.message : String(error)})`;
    }
    if (Date.now() > deadline) {
      throw new Error(`not within ${timeoutMs} ms: ${await describe()}${lastError}`);
    }
    await new Promise((done) => setTimeout(done, intervalMs));
  }
}
