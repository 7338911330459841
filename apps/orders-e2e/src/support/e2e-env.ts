import type { BusConnectionInfo } from '@relay/testing';

export const APP_NAMES = ['auth', 'orders', 'inventory'] as const;
export type AppName = (typeof APP_NAMES)[number];
export type AppPorts = Record<AppName, number>;

/** Set by global setup to the apps' ports (JSON), free ones it chose; the specs read APP_PORTS. */
export const E2E_PORTS_VARIABLE = 'RELAY_E2E_PORTS';

/** Where the orders e2e suite runs the three apps (specs start after global setup chose them). */
export const APP_PORTS: AppPorts = readPorts();

export const AUTH_URL = issuerAt(APP_PORTS);
export const ORDERS_URL = `http://127.0.0.1:${APP_PORTS.orders}`;
export const INVENTORY_URL = `http://127.0.0.1:${APP_PORTS.inventory}`;

/** Issuer and JWKS the apps are started with; tokens must carry exactly this `iss`. */
export const AUTH_ISSUER = AUTH_URL;
export const AUTH_JWKS_URI = jwksUriOf(AUTH_URL);

/** The issuer URL of auth on `ports` (global setup, before APP_PORTS can know them). */
export function issuerAt(ports: AppPorts): string {
  return `http://127.0.0.1:${ports.auth}`;
}

/** Where auth at `issuer` publishes its keys (AUTH_JWKS_URI of orders and inventory). */
export function jwksUriOf(issuer: string): string {
  return `${issuer}/.well-known/jwks.json`;
}

function readPorts(): AppPorts {
  const value = process.env[E2E_PORTS_VARIABLE];
  // outside a run (a spec file loaded on its own) the URLs are still well formed; nothing answers
  return value === undefined ? { auth: 0, orders: 0, inventory: 0 } : (JSON.parse(value) as AppPorts);
}

/** Set by global setup to the closed bus the apps were started on (JSON); specs read it through e2eBus(). */
export const E2E_BUS_VARIABLE = 'RELAY_E2E_BUS';

/** The closed bus the apps under test use: its URL, CA file, each identity's seed file and inbox prefix. */
export function e2eBus(): BusConnectionInfo {
  const value = process.env[E2E_BUS_VARIABLE];
  if (value === undefined) {
    throw new Error(`${E2E_BUS_VARIABLE} is unset: run the spec through \`npx nx e2e orders-e2e\``);
  }
  return JSON.parse(value) as BusConnectionInfo;
}

/** How app `name` reaches `bus`: the TLS URL, the CA to check the server against and its own NKey seed. */
export function busEnv(bus: BusConnectionInfo, name: AppName): Record<string, string> {
  return {
    NATS_URL: bus.url,
    NATS_TLS_CA_FILE: bus.caFile,
    NATS_NKEY_SEED_FILE: bus.seedFiles[name],
  };
}

/** Bootstrapped by auth at start (AUTH_ADMIN_EMAIL / AUTH_ADMIN_PASSWORD). */
export const ADMIN = {
  email: 'admin@orders-e2e.example.com',
  password: 'orders-e2e-admin-password',
} as const;

/**
 * Service clients auth is started with (AUTH_CLIENTS): orders releases the stock of crashed orders
 * with its own token, inventory acknowledges reservations to orders with its own.
 */
export const SERVICE_CLIENTS = {
  orders: { secret: 'orders-e2e-client-secret-32-characters', scope: 'inventory:release' },
  inventory: { secret: 'inventory-e2e-client-secret-32-characters', scope: 'orders:acknowledge' },
} as const;

export const AUTH_CLIENTS = Object.entries(SERVICE_CLIENTS)
  .map(([id, client]) => `${id}:${client.secret}:${client.scope}`)
  .join(',');
