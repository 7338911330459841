import { randomUUID } from 'node:crypto';

import { AUTH_URL } from './e2e-env';
import { recordBodySecrets } from './log-scan';

/** A parsed JSON answer (body undefined when empty). */
export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export async function api<T = unknown>(
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  options: {
    body?: unknown;
    token?: string;
    headers?: Record<string, string>;
    /** Abort (reject) when no answer arrives within this many ms. Default: no bound. */
    timeoutMs?: number;
  } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  // passwords sent and tokens received: the log scan at the end of the run looks for every one
  recordBodySecrets(options.body);
  const response = await fetch(url, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs),
  });
  const text = await response.text();
  const body = (text ? JSON.parse(text) : undefined) as T;
  recordBodySecrets(body);
  return {
    status: response.status,
    headers: response.headers,
    body,
  };
}

/** A freshly registered, logged-in customer. */
export interface Customer {
  id: string;
  email: string;
  accessToken: string;
}

/** Registers a new user with a unique email and logs in; fails loudly when either step does. */
export async function newCustomer(): Promise<Customer> {
  const credentials = {
    email: `buyer-${randomUUID()}@orders-e2e.example.com`,
    password: 'correct-horse-battery',
  };
  const registered = await api<{ id: string; email: string }>('POST', `${AUTH_URL}/auth/register`, {
    body: credentials,
  });
  if (registered.status !== 201) {
    throw new Error(`register answered ${registered.status}: ${JSON.stringify(registered.body)}`);
  }
  const login = await api<{ access_token: string }>('POST', `${AUTH_URL}/auth/login`, { body: credentials });
  if (login.status !== 200) {
    throw new Error(`login answered ${login.status}: ${JSON.stringify(login.body)}`);
  }
  return {
    id: registered.body.id,
    email: credentials.email,
    accessToken: login.body.access_token,
  };
}
