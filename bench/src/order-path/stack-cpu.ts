import { Client } from 'pg';

import { cpuTimes } from '../core/child';

/** The processes of one stack whose CPU time an order costs, by role (`orders`, `nats-server`, …). */
export type ProcessRoles = Record<string, () => Promise<number[]>>;

/** CPU µs per completed call (an order, a login), by role, plus `total`. */
export type CpuPerCall = Record<string, number>;

/** Role of the bench process itself in every breakdown. */
export const LOAD_GENERATOR = 'load generator';

/**
 * The PostgreSQL server processes that work for the given databases: their client backends, plus the
 * server's own background processes (WAL writer, checkpointer, autovacuum, …), which write what the
 * backends commit. The monitor's own connection is left out. Other users of the same server show up
 * only in the background processes' share.
 */
export class PostgresProcesses {
  private constructor(private readonly monitor: Client) {}

  static async connect(adminUrl: string): Promise<PostgresProcesses> {
    const monitor = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
    await monitor.connect();
    return new PostgresProcesses(monitor);
  }

  /** Process ids serving `databases` (names), and the background processes. */
  async pids(databases: readonly string[]): Promise<number[]> {
    const { rows } = await this.monitor.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity
       WHERE pid <> pg_backend_pid() AND (datname = ANY($1) OR backend_type <> 'client backend')`,
      [databases],
    );
    return rows.map((row) => row.pid);
  }

  /** Transactions committed in `databases` so far (`pg_stat_database`, flushed at most every 500 ms). */
  async commits(databases: readonly string[]): Promise<number> {
    const { rows } = await this.monitor.query<{ commits: string | null }>(
      'SELECT sum(xact_commit) AS commits FROM pg_stat_database WHERE datname = ANY($1)',
      [databases],
    );
    return Number(rows[0]?.commits ?? 0);
  }

  close(): Promise<void> {
    return this.monitor.end();
  }
}

interface Snapshot {
  byRole: Map<string, Map<number, number>>;
  self: NodeJS.CpuUsage;
}

async function snapshot(roles: ProcessRoles): Promise<Snapshot> {
  const byRole = new Map<string, Map<number, number>>();
  for (const [role, pids] of Object.entries(roles)) {
    const times = new Map<number, number>();
    for (const pid of await pids()) {
      const cpu = await cpuTimes(pid);
      if (cpu !== undefined) times.set(pid, cpu.user + cpu.system);
    }
    byRole.set(role, times);
  }
  return { byRole, self: process.cpuUsage() };
}

/**
 * Runs `work` and answers its result with the CPU time every role spent per completed order (from
 * `/proc/<pid>/stat`, 10 ms ticks) and the bench process's own (the load generator). A process that
 * starts during the run counts whole; one that ends during it is lost.
 */
export async function meterCpu<T extends { completed: number }>(
  roles: ProcessRoles,
  work: () => Promise<T>,
): Promise<{ result: T; cpu: CpuPerCall }> {
  const before = await snapshot(roles);
  const result = await work();
  const after = await snapshot(roles);
  const perOrder = (micros: number): number =>
    result.completed === 0 ? Number.NaN : micros / result.completed;
  const cpu: CpuPerCall = {};
  let total = 0;
  for (const [role, times] of after.byRole) {
    let spent = 0;
    for (const [pid, micros] of times) spent += micros - (before.byRole.get(role)?.get(pid) ?? 0);
    cpu[role] = perOrder(spent);
    total += spent;
  }
  const self = process.cpuUsage(before.self);
  cpu[LOAD_GENERATOR] = perOrder(self.user + self.system);
  cpu['total'] = perOrder(total + self.user + self.system);
  return { result, cpu };
}
