/** What the bench tells its targets (`BENCH_TARGET`, JSON). */
export interface TargetConfig {
  natsUrl: string;
  issuer: string;
  jwksUri: string;
  audience: string;
  revocationBucket: string;
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

/** HTTP paths of the bench targets (the raw server answers every path alike). */
export const BenchPaths = {
  guarded: '/bench/guarded',
  public: '/bench/public',
} as const;

/** The body every bench handler answers, so all variants move the same bytes. */
export const BENCH_REPLY = { ok: true, service: 'bench' } as const;
