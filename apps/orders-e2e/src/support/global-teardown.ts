import { loadRun, saveRun } from './e2e-run';
import { stopRun } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const run = loadRun();
  if (!run) {
    return;
  }
  await stopRun(run);
  saveRun(undefined);
}
