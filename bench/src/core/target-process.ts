import { writeFile } from 'node:fs/promises';

import { type CpuProfile, startProfiler } from './cpu-profile';

/** What a target reports once it serves. */
export interface StartedTarget<TReady> {
  data: TReady;
  close(): Promise<void>;
}

/** Messages the bench sends a target. */
export type TargetCommand =
  | { type: 'stop' }
  | { type: 'profile-start' }
  | { type: 'profile-stop'; path: string };

/**
 * Runs inside a forked target: starts it, reports `{ type: 'ready', data }` to the bench, profiles on
 * `profile-start` / `profile-stop` (answering `{ type: 'profiled' }` once the file is written), and
 * on `stop` closes it and exits.
 */
export function runTarget<TReady>(start: () => Promise<StartedTarget<TReady>>): void {
  const send = (message: object): void => {
    if (process.send) process.send(message);
  };
  let stopProfiler: (() => Promise<CpuProfile>) | undefined;
  const handle = async (command: TargetCommand, target: StartedTarget<TReady>): Promise<void> => {
    switch (command.type) {
      case 'stop':
        await target.close().catch(() => undefined);
        process.exit(0);
        break;
      case 'profile-start':
        stopProfiler = await startProfiler();
        send({ type: 'profiling' });
        break;
      case 'profile-stop': {
        const profile = await stopProfiler?.();
        stopProfiler = undefined;
        await writeFile(command.path, JSON.stringify(profile ?? {}));
        send({ type: 'profiled' });
        break;
      }
    }
  };
  start()
    .then((target) => {
      process.on('message', (command: TargetCommand) => void handle(command, target));
      process.on('disconnect', () => void target.close().finally(() => process.exit(0)));
      send({ type: 'ready', data: target.data });
    })
    .catch((error: unknown) => {
      send({ type: 'error', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      process.exit(1);
    });
}

/** The JSON the bench passes in `BENCH_TARGET`. */
export function targetConfig<T>(): T {
  const raw = process.env['BENCH_TARGET'];
  if (raw === undefined) throw new Error('BENCH_TARGET is not set: targets are started by the bench');
  return JSON.parse(raw) as T;
}
