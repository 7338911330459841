import { type ChildProcess, fork, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const REGISTER = join(__dirname, '..', '..', 'register.js');
const STOP_GRACE_MS = 10_000;
const OUTPUT_TAIL_BYTES = 64 * 1024;
const OUTPUT_LINES = 200;

/** A process the bench started; `stop()` ends it (gracefully first, so `--cpu-prof` files get written). */
export interface BenchChild<TReady = unknown> {
  readonly name: string;
  readonly process: ChildProcess;
  readonly ready: TReady;
  /** The last output lines (stdout and stderr), for error reports. */
  readonly output: string[];
  /** Sends an IPC command and waits for the reply of type `replyType` (forked targets only). */
  command(message: object, replyType: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Options of `forkTarget()`. */
export interface ForkOptions {
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

/** Forks a TypeScript target (`bench/src/...`) and waits for its `{ type: 'ready' }` IPC message. */
export async function forkTarget<TReady>(
  name: string,
  entry: string,
  options: ForkOptions = {},
): Promise<BenchChild<TReady>> {
  const child = fork(entry, [], {
    execArgv: ['-r', REGISTER],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const output = collectOutput(child);
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const ready = await new Promise<TReady>((resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${name} not ready within ${readyTimeoutMs} ms\n${output().join('\n')}`)),
      readyTimeoutMs,
    );
    child.on('message', (message: { type?: string; data?: TReady; error?: string }) => {
      if (message.type === 'ready') resolve(message.data as TReady);
      if (message.type === 'error') reject(new Error(`${name} failed: ${message.error ?? ''}`));
    });
    child.once('exit', (code) =>
      reject(new Error(`${name} exited (${code ?? 'signal'}) before it was ready\n${output().join('\n')}`)),
    );
    child.once('error', reject);
  })
    .catch((error: unknown) => {
      child.kill('SIGKILL');
      throw error;
    })
    .finally(() => clearTimeout(timer));
  return {
    name,
    process: child,
    ready,
    get output() {
      return output();
    },
    command: (message, replyType, timeoutMs = 30_000) => sendCommand(child, message, replyType, timeoutMs),
    stop: () => stopChild(child, () => child.connected && child.send({ type: 'stop' })),
  };
}

/** Spawns a plain command (nats-server, an app's `dist/main.js`); `stop()` sends SIGTERM, then SIGKILL. */
export function spawnProcess(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string | undefined> = process.env,
): BenchChild<undefined> {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = collectOutput(child);
  return {
    name,
    process: child,
    ready: undefined,
    get output() {
      return output();
    },
    command: () => Promise.reject(new Error(`${name} takes no commands`)),
    stop: () => stopChild(child, () => child.kill('SIGTERM')),
  };
}

/** Resident set size of a process in MiB (Linux `/proc`), or `NaN` where unavailable. */
export async function rssMiB(pid: number | undefined): Promise<number> {
  if (pid === undefined) return Number.NaN;
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

// /proc/<pid>/stat counts CPU time in USER_HZ ticks, 100 per second on every Linux ABI
const USER_HZ = 100;

/** CPU time `pid` has used so far, in µs, user and system apart (Linux `/proc`, 10 ms resolution). */
export interface CpuTimes {
  user: number;
  system: number;
}

/** CPU time `pid` has used so far, or `undefined` where `/proc` is unavailable. */
export function cpuTimes(pid: number | undefined): Promise<CpuTimes | undefined> {
  return pid === undefined ? Promise.resolve(undefined) : readProcStat(`/proc/${pid}/stat`);
}

/** CPU time one thread of `pid` has used so far (`/proc/<pid>/task/<tid>/stat`; the main thread's tid is the pid). */
export function threadCpuTimes(pid: number | undefined, tid = pid): Promise<CpuTimes | undefined> {
  return pid === undefined ? Promise.resolve(undefined) : readProcStat(`/proc/${pid}/task/${tid}/stat`);
}

/** The CPU times of a `stat` file, or undefined once its process or thread is gone (or off Linux). */
async function readProcStat(path: string): Promise<CpuTimes | undefined> {
  try {
    return parseProcStat(await readFile(path, 'latin1'));
  } catch {
    return undefined;
  }
}

/** User and system CPU time, in µs, from the text of `/proc/<pid>/stat`. */
export function parseProcStat(stat: string): CpuTimes {
  // fields after the parenthesised command name: state is the 3rd field, utime the 14th, stime the 15th
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const micros = (ticks: string): number => (Number(ticks) * 1_000_000) / USER_HZ;
  return { user: micros(fields[11]), system: micros(fields[12]) };
}

/** Samples the RSS of `pid` every 250 ms until stopped; resolves the peak in MiB. */
export function samplePeakRss(pid: number | undefined): { stop(): Promise<number> } {
  let peak = Number.NaN;
  const take = async (): Promise<void> => {
    const rss = await rssMiB(pid);
    if (!Number.isNaN(rss)) peak = Number.isNaN(peak) ? rss : Math.max(peak, rss);
  };
  void take();
  const timer = setInterval(() => void take(), 250);
  return {
    stop: async () => {
      clearInterval(timer);
      await take();
      return peak;
    },
  };
}

function sendCommand(
  child: ChildProcess,
  message: object,
  replyType: string,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`no ${replyType} reply within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (reply: { type?: string }): void => {
      if (reply.type !== replyType) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve();
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

/**
 * Keeps the last `OUTPUT_TAIL_BYTES` of a child's output as the chunks arrive, split into lines only
 * when read: the apps under load log a line per request, and splitting every chunk took the load
 * generator's CPU from the stack it measures.
 */
function collectOutput(child: ChildProcess): () => string[] {
  const chunks: Buffer[] = [];
  let kept = 0;
  const keep = (chunk: Buffer): void => {
    chunks.push(chunk);
    kept += chunk.length;
    while (kept - chunks[0].length >= OUTPUT_TAIL_BYTES) kept -= chunks.shift()?.length ?? 0;
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () =>
    Buffer.concat(chunks)
      .toString('utf8')
      .split('\n')
      .filter((line) => line !== '')
      .slice(-OUTPUT_LINES);
}

function stopChild(child: ChildProcess, askToStop: () => void): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    askToStop();
  });
}
