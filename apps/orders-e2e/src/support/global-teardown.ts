import { rmSync } from 'node:fs';

import { ADMIN, SERVICE_CLIENTS } from './e2e-env';
import { loadRun, saveRun } from './e2e-run';
import { stopRun } from './global-setup';
import { assertCleanLogs, type RecordedSecret } from './log-scan';
import { USER_PASSWORD } from './relay-client';

/** Set (to anything): the logs of a passing run are kept too, and their directory printed. */
const KEEP_LOGS_VARIABLE = 'RELAY_E2E_KEEP_LOGS';

/** The run's fixed secrets; the rest (tokens, fault clusters' secrets, seeds) were recorded as used. */
const FIXED_SECRETS: readonly RecordedSecret[] = [
  { kind: 'the admin password', value: ADMIN.password },
  { kind: 'the users’ password', value: USER_PASSWORD },
  ...Object.values(SERVICE_CLIENTS).map((client) => ({
    kind: 'a service client secret',
    value: client.secret,
  })),
];

/**
 * Stops the run, then scans every app's output (`log-scan.ts`): a secret in a log line, or a stdout
 * line that is not a JSON log line, fails the run; the logs are then kept for a look.
 */
export default async function globalTeardown(): Promise<void> {
  const run = loadRun();
  if (!run) {
    return;
  }
  await stopRun(run);
  saveRun(undefined);
  const scan = assertCleanLogs(run.logDir, FIXED_SECRETS);
  // a scan that read no access line read nothing the specs did (the apps log them at info)
  if (scan.accessLines === 0) {
    throw new Error(
      `the apps' logs (${run.logDir}) hold no access line: the log scan saw none of the specs' calls`,
    );
  }
  const keep = process.env[KEEP_LOGS_VARIABLE] !== undefined;
  if (!keep) rmSync(run.logDir, { recursive: true, force: true });
  process.stderr.write(
    `orders-e2e: log scan passed: ${scan.lines} lines in ${scan.files} files, no secret; ` +
      `${scan.jsonLines} JSON log lines (${scan.accessLines} access lines)` +
      `${keep ? `; kept in ${run.logDir}` : ''}\n`,
  );
}
