import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';

// this process's locks, by file: one PGlite of the process may open a directory again (a test's
// second instance), and the file goes when the last one closes, if it still holds what was written
const heldHere = new Map<string, { count: number; content: string }>();

/**
 * Takes `${dataDir}.lock` for this process, or refuses when another live process holds it: PGlite
 * takes no lock of its own, and two processes on one data directory corrupt it (PostgreSQL would
 * refuse the second server). The lock names the holder's pid and host: a lock of this host whose
 * process is gone is taken over; one of another host (a container sharing the volume, where every
 * app may be pid 1) is never, as its process cannot be seen from here. Returns its release, which
 * removes the file only while it is still this process's.
 */
export function lockDataDir(dataDir: string): () => void {
  const file = `${dataDir}.lock`;
  const held = heldHere.get(file) ?? { count: 0, content: takeFile(file, dataDir) };
  held.count += 1;
  heldHere.set(file, held);
  let isReleased = false;
  return () => {
    if (isReleased) return;
    isReleased = true;
    held.count -= 1;
    if (held.count > 0) return;
    heldHere.delete(file);
    // as written: the host's name may have changed since (macOS renames it with the network)
    if (readHolder(file) === held.content) rmSync(file, { force: true });
  };
}

/** Writes the lock file; returns what it holds. */
function takeFile(file: string, dataDir: string): string {
  const content = `${process.pid}\n${hostname()}\n`;
  for (let attempt = 0; ; attempt += 1) {
    try {
      writeFileSync(file, content, { flag: 'wx', mode: 0o600 });
      return content;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw error;
    }
    const holder = readHolder(file);
    // released since the write failed: try again
    if (holder === undefined) continue;
    const [pidLine = '', host = hostname()] = holder.split('\n');
    const pid = Number.parseInt(pidLine, 10);
    // a lock written before locks named their host is this host's
    const isOtherHost = host !== '' && host !== hostname();
    // created and not written yet: another process is taking it this very moment
    const isBeingTaken = holder === '';
    if (isBeingTaken || isOtherHost || (pid !== process.pid && isAlive(pid))) {
      // another host's process cannot be seen from here: only a person can tell it is gone
      const who = isBeingTaken ? 'a process starting now' : `process ${pid}`;
      const where = isOtherHost ? ` on host ${host}` : '';
      const ifGone = isOtherHost || isBeingTaken ? `; if that process is gone, delete ${file}` : '';
      throw new Error(
        `${dataDir} is in use by ${who}${where} (another app on the same DATA_DIR): stop it, or give this app a DATA_DIR or a DATABASE_URL of its own${ifGone}`,
      );
    }
    removeIfStill(file, holder);
  }
}

/**
 * Removes `file` if it still holds `stale`, the dead holder's lock judged above. Not a plain delete:
 * two processes starting together both judge it dead, the first takes the file over, and the
 * second's delete would remove that new, live lock and let both open the directory. The file is
 * moved aside in one step (a rename), and put back when what moved was not the stale lock.
 */
export function removeIfStill(file: string, stale: string): void {
  const aside = `${file}.${process.pid}.${randomBytes(6).toString('hex')}`;
  try {
    renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    // a link fails when a third process has taken the file meanwhile: that one holds it then
    if (readHolder(aside) !== stale) linkSync(aside, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(aside, { force: true });
  }
}

function readHolder(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
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
