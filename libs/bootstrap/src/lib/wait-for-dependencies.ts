import { setTimeout as sleep } from 'node:timers/promises';

import { describeError } from '@relay/contracts';

/** A server a service needs before it can start: PostgreSQL, NATS. */
export interface Dependency {
  /** What is waited for, without credentials: `PostgreSQL at db:5432/orders`. */
  name: string;
  /** One attempt: resolves once the server takes this service, rejects with why it did not. */
  probe(): Promise<void>;
  /** Whether a failure can pass on its own (the server is not up yet), rather than a setting to fix. */
  isTransient(error: unknown): boolean;
}

export interface WaitSettings {
  /** How long each dependency may take to answer (`STARTUP_WAIT_MS`); 0: one attempt. */
  waitMs: number;
  /** Pause between attempts. */
  retryMs: number;
  /** Where the waiting (a warning: the service cannot start yet) and the end of it are told: one line each. */
  log: { warn(line: string): void; info(line: string): void };
}

/** A start that cannot go on: its message is the whole story, one line, no stack. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/**
 * Waits for each dependency in turn: a server that is not up yet (a whole stack started at once, a
 * database restarting) is tried again every `retryMs` for up to `waitMs`, told once when the wait
 * begins and once when it ends. Rejects with a {@link StartupError} when one is still not there by
 * then, or at once when it refuses for a reason that will not pass (credentials, TLS, no such database).
 */
export async function waitForDependencies(
  dependencies: readonly Dependency[],
  { waitMs, retryMs, log }: WaitSettings,
): Promise<void> {
  for (const dependency of dependencies) {
    const deadline = Date.now() + waitMs;
    let waitingSince: number | undefined;
    for (;;) {
      try {
        await dependency.probe();
        break;
      } catch (error) {
        if (!dependency.isTransient(error)) {
          throw new StartupError(`${dependency.name} refused this service: ${describeError(error)}`);
        }
        if (Date.now() + retryMs > deadline) {
          throw new StartupError(
            `${dependency.name} did not answer within ${seconds(waitMs)} (STARTUP_WAIT_MS): ${describeError(error)}`,
          );
        }
        if (waitingSince === undefined) {
          waitingSince = Date.now();
          log.warn(`waiting up to ${seconds(waitMs)} for ${dependency.name} (${describeError(error)})`);
        }
        await sleep(retryMs);
      }
    }
    if (waitingSince !== undefined) {
      log.info(`${dependency.name} answered after ${seconds(Date.now() - waitingSince)}`);
    }
  }
}

/**
 * `url` (or a comma-separated list of them) as scheme, host and path only: no user, password or query,
 * fit for a log line. A list splits only at a comma that starts another URL (`,scheme://`): a password
 * may hold commas. Everything up to the last `@` goes before the URL is read, since a password may
 * hold the `/`, `#` or `@` that would make its tail look like a host or a path; a URL that still does
 * not parse shows its scheme alone.
 */
export function withoutCredentials(url: string): string {
  return url
    .split(/,(?=[a-z][a-z0-9+.-]*:\/\/)/i)
    .map((part) => {
      const bare = part.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^]*@/i, '$1');
      try {
        const parsed = new URL(bare);
        return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
      } catch {
        const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(part)?.[1];
        return scheme === undefined ? '<unparsable URL>' : `${scheme}://<unparsable URL>`;
      }
    })
    .join(',');
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
