import { createConfigValidator, IsIntegerInRange } from '@relay/config';

/**
 * How an app starts and how it shuts down on SIGTERM or SIGINT (see `waitForDependencies`,
 * `GracefulShutdown`). Every app reads these besides its own variables.
 */
export class LifecycleConfig {
  /**
   * How long the app waits at start for each server it needs (its PostgreSQL when `DATABASE_URL` is
   * set, NATS) while it is not up yet, before it exits 1 with one line naming it. 0: no wait.
   * Default: 30000 ms.
   */
  @IsIntegerInRange(0, 600_000, 'STARTUP_WAIT_MS must be an integer between 0 and 600000 (milliseconds)')
  STARTUP_WAIT_MS: number = 30_000;

  /**
   * How long the app keeps serving after it has turned not-ready, before it stops taking requests: the
   * time a load balancer needs to see `/health/ready` fail (its probe interval times its failure
   * threshold). Compose routes nothing by readiness, so the default waits for nothing. Default: 0 ms.
   */
  @IsIntegerInRange(0, 120_000, 'SHUTDOWN_GRACE_MS must be an integer between 0 and 120000 (milliseconds)')
  SHUTDOWN_GRACE_MS: number = 0;

  /**
   * The longest the app waits for HTTP requests and NATS messages in flight once it has stopped taking
   * new ones; past it they are cut and the app closes anyway. The default (with a 0 grace) fits within
   * Docker's 10 s between SIGTERM and SIGKILL, with the 3 s `app.close()` may take after it. Default: 6500 ms.
   */
  @IsIntegerInRange(1, 120_000, 'SHUTDOWN_TIMEOUT_MS must be an integer between 1 and 120000 (milliseconds)')
  SHUTDOWN_TIMEOUT_MS: number = 6500;
}

/** Validates the start and shutdown variables of `process.env`-like input (one line naming the first bad one). */
export const validateLifecycleConfig = createConfigValidator(LifecycleConfig);
