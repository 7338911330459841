/** What the bench passes the floor processes (`BENCH_TARGET`). */
export interface FloorConfig {
  natsUrl: string;
  /** `DATABASE_URL` of the process's own database (orders' or inventory's). */
  databaseUrl: string;
}

/** What the floor's orders process reports once it serves. */
export interface FloorOrdersReady {
  url: string;
}

/**
 * The one user every floor order belongs to: the floor has no authentication, so nobody tells it
 * who calls (Relay takes the user from the verified token).
 */
export const FLOOR_USER_ID = 'floor-user';

/**
 * Pool size of both floor processes: the same as `PostgresDatabase`'s, so both stacks get as many
 * backends. Their parameterised statements are named (prepared once per connection), as
 * `PostgresDatabase` runs Relay's.
 */
export const FLOOR_POOL_SIZE = 10;

/** A stock line of an order. */
export interface FloorItem {
  sku: string;
  quantity: number;
}

/** `inventory.reserve` and its reply in Nest's NATS wire format (what `ClientNats` and `ServerNats` move). */
export interface NestRequest<T> {
  pattern: string;
  data: T;
  id: string;
}

export interface NestReply<T> {
  id: string;
  response?: T;
  err?: { status?: number; reason?: string; message?: string };
  isDisposed: true;
}
