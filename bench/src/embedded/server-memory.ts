import { readFile } from 'node:fs/promises';

import { Client } from 'pg';

/** Proportional set size of a process in MiB (Linux `/proc/<pid>/smaps_rollup`), or `NaN` where unavailable. */
export async function pssMiB(pid: number): Promise<number> {
  try {
    const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
    const match = /^Pss:\s+(\d+)\s+kB/m.exec(rollup);
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

async function parentPid(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'latin1');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/**
 * The memory one PostgreSQL server spends on `databases`: the summed PSS of its postmaster, its
 * background processes and the backends connected to those databases (on a shared server, the other
 * databases' backends are left out; PSS splits the shared buffers among the processes that touch them).
 */
export class ServerMemory {
  private constructor(
    private readonly client: Client,
    private readonly databases: readonly string[],
  ) {}

  /** Connects to the server at `url` (any role sees every backend's pid and backend type). */
  static async open(url: string, databases: readonly string[]): Promise<ServerMemory> {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    await client.connect();
    return new ServerMemory(client, databases);
  }

  /** MiB PSS now, or `NaN` where `/proc` is unavailable. */
  async pss(): Promise<number> {
    const { rows } = await this.client.query<{ pid: number; own: boolean }>(
      `SELECT pid, pid = pg_backend_pid() AS own FROM pg_stat_activity
        WHERE pid = pg_backend_pid() OR backend_type <> 'client backend' OR datname = ANY($1)`,
      [this.databases],
    );
    const own = rows.find((row) => row.own);
    if (own === undefined) return Number.NaN;
    const postmaster = await parentPid(own.pid).catch(() => undefined);
    if (postmaster === undefined) return Number.NaN;
    const pids = [postmaster, ...rows.filter((row) => !row.own).map((row) => row.pid)];
    const sizes = await Promise.all(pids.map(pssMiB));
    return sizes.reduce((sum, size) => sum + (Number.isNaN(size) ? 0 : size), 0);
  }

  /** Samples `pss()` every 500 ms until stopped; resolves the peak. */
  samplePeak(): { stop(): Promise<number> } {
    let peak = Number.NaN;
    let taking = Promise.resolve();
    const take = (): void => {
      taking = taking.then(async () => {
        const size = await this.pss().catch(() => Number.NaN);
        if (!Number.isNaN(size)) peak = Number.isNaN(peak) ? size : Math.max(peak, size);
      });
    };
    take();
    const timer = setInterval(take, 500);
    return {
      stop: async () => {
        clearInterval(timer);
        take();
        await taking;
        return peak;
      },
    };
  }

  close(): Promise<void> {
    return this.client.end();
  }
}
