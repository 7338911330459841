import { Injectable } from '@nestjs/common';

/**
 * Whether this app still takes new work. Shutdown calls {@link Readiness.drain} first thing, so
 * `GET /health/ready` answers 503 from then on (a load balancer stops sending traffic) while
 * `GET /health/live` keeps answering 200 (nothing should kill a process that is finishing its work).
 */
@Injectable()
export class Readiness {
  private isDrainingNow = false;

  /** `true` once shutdown has begun; never turns back. */
  get isDraining(): boolean {
    return this.isDrainingNow;
  }

  /** Marks the app as shutting down: readiness fails for the rest of the process's life. */
  drain(): void {
    this.isDrainingNow = true;
  }
}
