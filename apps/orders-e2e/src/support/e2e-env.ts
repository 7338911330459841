/** Where the orders e2e suite runs the three apps; shared by global setup and the specs. */
export const APP_PORTS = {
  auth: 13000,
  orders: 13001,
  inventory: 13002,
} as const;
export type AppName = keyof typeof APP_PORTS;
export const APP_NAMES = Object.keys(APP_PORTS) as AppName[];

export const AUTH_URL = `http://127.0.0.1:${APP_PORTS.auth}`;
export const ORDERS_URL = `http://127.0.0.1:${APP_PORTS.orders}`;
export const INVENTORY_URL = `http://127.0.0.1:${APP_PORTS.inventory}`;

/** Issuer and JWKS the apps are started with; tokens must carry exactly this `iss`. */
export const AUTH_ISSUER = AUTH_URL;
export const AUTH_JWKS_URI = `${AUTH_URL}/.well-known/jwks.json`;

/** Set by global setup to the bus the apps were started on; specs read it through busUrl(). */
export const E2E_NATS_URL_VARIABLE = 'RELAY_E2E_NATS_URL';

/** The bus the apps under test use: the private one global setup started, else NATS_URL or the default. */
export function busUrl(): string {
  return process.env[E2E_NATS_URL_VARIABLE] ?? process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
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
  orders: { secret: 'orders-e2e-client-secret', scope: 'inventory:release' },
  inventory: { secret: 'inventory-e2e-client-secret', scope: 'orders:acknowledge' },
} as const;

export const AUTH_CLIENTS = Object.entries(SERVICE_CLIENTS)
  .map(([id, client]) => `${id}:${client.secret}:${client.scope}`)
  .join(',');
