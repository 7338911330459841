import { readFileSync, rmSync, writeFileSync } from 'node:fs';

// this process's locks, by file: one PGlite of the process may open a directory again (a test's
// second instance), and the file goes when the last one closes
const heldHere = new Map<string, number>();

/**
 * Takes `${dataDir}.lock` for this process, or refuses when another live process holds it: PGlite
 * takes no lock of its own, and two processes on one data directory corrupt it (PostgreSQL would
 * refuse the second server). A lock left by a process that is gone is taken over. Returns its release.
 */
export function lockDataDir(dataDir: string): () => void {
  const file = `${dataDir}.lock`;
  const held = heldHere.get(file);
  if (held === undefined) takeFile(file, dataDir);
  heldHere.set(file, (held ?? 0) + 1);
  let isReleased = false;
  return () => {
    if (isReleased) return;
    isReleased = true;
    const left = (heldHere.get(file) ?? 1) - 1;
    if (left > 0) {
      heldHere.set(file, left);
      return;
    }
    heldHere.delete(file);
    rmSync(file, { force: true });
  };
}

function takeFile(file: string, dataDir: string): void {
  for (let attempt = 0; ; attempt += 1) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
    }
    const holder = Number.parseInt(readFileSync(file, 'utf8'), 10);
    if (holder !== process.pid && isAlive(holder)) {
      throw new Error(
        `${dataDir} is in use by process ${holder} (another app on the same DATA_DIR): stop it, or give this app a DATA_DIR or a DATABASE_URL of its own`,
      );
    }
    rmSync(file, { force: true });
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
