/** What the bench tells its targets (`BENCH_TARGET`, JSON). */
export interface TargetConfig {
  natsUrl: string;
  issuer: string;
  jwksUri: string;
  audience: string;
  revocationBucket: string;
  /** `AuthModule`'s option: false binds to a bucket made beforehand, as orders and inventory do. Default: true. */
  createRevocationBucket?: boolean;
  /** NATS subjects of the guarded and `@Public()` handlers. */
  subjects: RpcSubjects;
  /** The bus identity of every NATS connection the target opens; absent: anonymous, plain TCP. */
  identity?: TargetBusIdentity;
  /** Nest's HTTP adapter; absent: Fastify, as the Relay apps. */
  adapter?: TargetAdapter;
  /** What of Relay's observability the target runs; absent: none of it. */
  observability?: TargetObservability;
}

/** The parts of `@relay/observability` a Nest target runs, as a Relay app does (all of them). */
export interface TargetObservability {
  /** JSON logs at `info`: one access line per request and message, to the target's stdout. */
  logs: boolean;
  /** prom-client metrics fed by every call. */
  metrics: boolean;
  /** OTLP/HTTP endpoint the OpenTelemetry SDK exports to (default sampling); absent: no SDK. */
  otlpEndpoint?: string;
}

/** The Nest HTTP adapters the Nest target can serve on. */
export type TargetAdapter = 'fastify' | 'express';

/** The guarded and `@Public()` NATS subjects of a Nest target. */
export interface RpcSubjects {
  guarded: string;
  public: string;
}

/** A closed bus's CA, NKey seed and inbox prefix for one connecting process. */
export interface TargetBusIdentity {
  tlsCaFile: string;
  nkeySeedFile: string;
  inboxPrefix: string;
}

/** What a target answers once it serves. */
export interface TargetReady {
  httpUrl: string;
}

/** NATS subjects of the bench targets. */
export const BenchSubjects = {
  guarded: 'bench.guarded',
  public: 'bench.public',
  raw: 'bench.raw',
} as const;

/**
 * Subjects of the Express target's NATS handlers (the HTTP section measures only its HTTP routes):
 * its own, so it can never answer a message meant for the Fastify target.
 */
export const ExpressTargetSubjects = {
  guarded: 'bench.express.guarded',
  public: 'bench.express.public',
} as const satisfies RpcSubjects;

/**
 * Subjects of the closed-bus hop's targets, on either bus: the bus's permission table lets the
 * `inventory` identity answer these and the `orders` identity send them; `bench.*` it would refuse.
 */
export const BusHopSubjects = {
  guarded: 'inventory.stock',
  public: 'inventory.release',
} as const satisfies RpcSubjects;

/** HTTP paths of the bench targets (the raw server answers every path alike). */
export const BenchPaths = {
  guarded: '/bench/guarded',
  public: '/bench/public',
} as const;

/** The body every bench handler answers, so all variants move the same bytes. */
export const BENCH_REPLY = { ok: true, service: 'bench' } as const;
