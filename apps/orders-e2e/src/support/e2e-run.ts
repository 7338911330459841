import type { NatsServer } from '@relay/testing';

import { type AppProcess } from './app-processes';

/** What global teardown must undo; jest runs both hooks in one process and shares globalThis. */
export interface E2eRun {
  apps: AppProcess[];
  dataDir: string;
  /** Every app process's output and the secrets the run used (`log-scan.ts`); scanned by global teardown. */
  logDir: string;
  /** The private closed nats-server, once global setup started it. */
  nats?: NatsServer;
}

const RUN_KEY = Symbol.for('relay.orders-e2e.run');
type RunHolder = { [RUN_KEY]?: E2eRun };

export function saveRun(run: E2eRun | undefined): void {
  (globalThis as RunHolder)[RUN_KEY] = run;
}

export function loadRun(): E2eRun | undefined {
  return (globalThis as RunHolder)[RUN_KEY];
}
