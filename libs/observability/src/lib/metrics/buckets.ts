/** Latency buckets in seconds, from 1 ms (a cached verification) to 10 s (past every RPC timeout). */
export const LATENCY_BUCKETS_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Milliseconds (as the channels report them) to seconds (as Prometheus wants them). */
export function seconds(milliseconds: number): number {
  return milliseconds / 1000;
}
