/** One dependency `/health` probes; `check` rejects (or exceeds the timeout) when it is down. */
export interface HealthCheck {
  name: string;
  check(): Promise<void>;
}

/** What `GET /health` answers: 200 when every check is up and the app is not shutting down, 503 otherwise. */
export interface HealthReport {
  status: 'ok' | 'unavailable';
  checks: Record<string, 'up' | 'down'>;
  /** Present (`true`) once shutdown has begun: the app finishes its work in flight and takes no more. */
  draining?: true;
}

/** A dependency slower than this counts as down: /health must answer fast for orchestrators. */
export const HEALTH_CHECK_TIMEOUT_MS = 2000;

/** Runs every check concurrently, each bounded by the timeout. */
export async function runHealthChecks(
  checks: readonly HealthCheck[],
  timeoutMs = HEALTH_CHECK_TIMEOUT_MS,
): Promise<HealthReport> {
  const results = await Promise.all(
    checks.map(async ({ name, check }) => [name, (await isUp(check, timeoutMs)) ? 'up' : 'down'] as const),
  );
  const status = results.every(([, state]) => state === 'up') ? 'ok' : 'unavailable';
  return { status, checks: Object.fromEntries(results) };
}

async function isUp(check: () => Promise<void>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('health check timed out')), timeoutMs);
  });
  try {
    await Promise.race([check(), timeout]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
