/** One measured load run. */
export interface LoadResult {
  /** Successful responses per second. */
  rps: number;
  /** Latency percentiles in ms. */
  p50: number;
  p99: number;
  /** Failed calls (errors, timeouts, non-2xx). */
  failures: number;
  /** Successful calls. */
  completed: number;
  /** CPU time the target spent per successful call, in µs, where measured. */
  targetCpu?: { user: number; system: number };
}
