import { threadCpuTimes } from '../core/child';
import type { FigureSink } from '../core/figures';
import type { LoadResult } from '../core/load-result';
import type { BenchOptions } from '../core/options';
import { median, round } from '../core/stats';
import type { StackDatabases } from '../e2e/databases';
import type { StackApp } from '../e2e/relay-stack';
import { databaseNamesOf } from '../order-path/floor-stack';
import { type CpuPerCall, LOAD_GENERATOR, meterCpu, PostgresProcesses } from '../order-path/stack-cpu';

/** A run's result and the CPU µs each process spent per completed call. */
export interface Metered {
  result: LoadResult;
  cpu: CpuPerCall;
}

const AUTH_MAIN_THREAD = 'auth main thread';
const AUTH_OTHER_THREADS = 'auth other threads';

/**
 * CPU per call of the processes a login crosses: auth's main thread (the event loop) and its other
 * threads (Argon2 on libuv's pool, V8's helpers) apart, PostgreSQL (the auth database's backends and
 * the server's background processes; on PostgreSQL only) and the bench process (the load generator,
 * which in the floor's turns runs the checks themselves).
 */
export class LoginCpuMeter {
  private constructor(
    private readonly auth: StackApp,
    private readonly postgres: PostgresProcesses | undefined,
    private readonly databaseNames: string[],
  ) {}

  static async open(
    options: BenchOptions,
    auth: StackApp,
    databases: StackDatabases,
  ): Promise<LoginCpuMeter> {
    const names = databaseNamesOf(databases);
    const postgres = names.length === 0 ? undefined : await PostgresProcesses.connect(options.postgresUrl);
    return new LoginCpuMeter(auth, postgres, names);
  }

  async run(load: () => Promise<LoadResult>): Promise<Metered> {
    const pid = this.auth.child.process.pid;
    const postgres = this.postgres;
    const roles = {
      auth: () => Promise.resolve(pid === undefined ? [] : [pid]),
      ...(postgres === undefined ? {} : { postgres: () => postgres.pids(this.databaseNames) }),
    };
    const mainBefore = await threadCpuTimes(pid);
    const { result, cpu } = await meterCpu(roles, load);
    const mainAfter = await threadCpuTimes(pid);
    if (mainBefore !== undefined && mainAfter !== undefined && result.completed > 0) {
      const mainThread =
        (mainAfter.user + mainAfter.system - mainBefore.user - mainBefore.system) / result.completed;
      cpu[AUTH_MAIN_THREAD] = mainThread;
      cpu[AUTH_OTHER_THREADS] = cpu['auth'] - mainThread;
    }
    return { result, cpu };
  }

  close(): Promise<void> {
    return this.postgres?.close() ?? Promise.resolve();
  }
}

/**
 * `logins.cpu.*`: where a login's CPU goes against the floor's one check (medians of the rounds), so
 * the ratio can be read: on two busy cores logins/s follows the CPU a login costs the machine.
 */
export function reportLoginCpu(sink: FigureSink, logins: CpuPerCall[], floor: CpuPerCall[]): void {
  const perLogin = (role: string): number => round(median(logins.map((cpu) => cpu[role] ?? Number.NaN)), 0);
  for (const [role, key] of [
    [AUTH_MAIN_THREAD, 'auth_main_thread'],
    [AUTH_OTHER_THREADS, 'auth_other_threads'],
    ['postgres', 'postgres'],
    [LOAD_GENERATOR, 'load_generator'],
    ['total', 'total'],
  ]) {
    const value = perLogin(role);
    if (!Number.isNaN(value)) sink.info(`logins.cpu.${key}`, value, `µs CPU per login (${role}, 10 clients)`);
  }
  sink.info(
    'logins.cpu.floor',
    round(median(floor.map((cpu) => cpu[LOAD_GENERATOR])), 0),
    'µs CPU per Argon2id check (the bench process, 10 callers)',
  );
}
