import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';

import { type AppName } from './e2e-env';
import { appLogFile, e2eLogDir, recordEnvironmentSecrets } from './log-scan';

export const WORKSPACE_ROOT = resolve(__dirname, '../../../..');

/** A started app with the last lines it printed, for error messages. */
export interface AppProcess {
  name: AppName;
  child: ChildProcess;
  output: string[];
  /** Settles once everything the process printed is in its log files (at once without a log directory). */
  logged: Promise<void>;
}

export function builtMain(name: AppName): string {
  return join(WORKSPACE_ROOT, 'dist/apps', name, 'main.js');
}

export function missingBuilds(names: readonly AppName[]): AppName[] {
  return names.filter((name) => !existsSync(builtMain(name)));
}

export function tcpAnswers(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port });
    const finish = (answered: boolean): void => {
      socket.destroy();
      done(answered);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/**
 * Spawns `dist/apps/<name>/main.js` with JSON logs (the run's log scan reads them). In an e2e run
 * every line goes to the run's log directory, whose scan fails the run on a secret, and the secrets
 * of `env` are recorded for it. Its warnings, errors and any line that is not a JSON log line go to
 * stderr too, prefixed with `label` (default: the name).
 */
export function startApp(name: AppName, env: NodeJS.ProcessEnv, label: string = name): AppProcess {
  const logDir = e2eLogDir();
  if (logDir !== undefined) recordEnvironmentSecrets(env);
  const child = spawn(process.execPath, [builtMain(name)], {
    cwd: WORKSPACE_ROOT,
    env: { ...env, LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const app: AppProcess = { name, child, output: [], logged: Promise.resolve() };
  const written: Promise<void>[] = [];
  for (const [streamName, stream] of [
    ['stdout', child.stdout],
    ['stderr', child.stderr],
  ] as const) {
    if (!stream) continue;
    if (logDir !== undefined && child.pid !== undefined) {
      written.push(writeToFile(stream, appLogFile(logDir, label, child.pid, streamName)));
    }
    createInterface({ input: stream }).on('line', (line) => {
      app.output.push(line);
      if (app.output.length > 40) app.output.shift();
      if (isWorthShowing(line)) process.stderr.write(`[${label}] ${line}\n`);
    });
  }
  app.logged = Promise.all(written).then(() => undefined);
  return app;
}

function writeToFile(stream: Readable, file: string): Promise<void> {
  const out = createWriteStream(file);
  stream.pipe(out);
  // a write error must not fail the run here: the scan then finds the file short or missing
  return finished(out).catch(() => undefined);
}

/** The `msg` of every JSON log line among an app's last lines (`output`); other lines are skipped. */
export function logMessages(app: { readonly output: readonly string[] }): string[] {
  return app.output.flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      const msg = (JSON.parse(line) as { msg?: unknown }).msg;
      return typeof msg === 'string' ? [msg] : [];
    } catch {
      return [];
    }
  });
}

const QUIET_LEVELS = new Set(['trace', 'debug', 'info']);

// a JSON line below warn stays in the log file; anything else (a warning, an error, a stack trace) is shown
function isWorthShowing(line: string): boolean {
  if (!line.startsWith('{')) return true;
  try {
    const level = (JSON.parse(line) as { level?: unknown }).level;
    return typeof level !== 'string' || !QUIET_LEVELS.has(level);
  } catch {
    return true;
  }
}

/**
 * How long an app may take to answer /health 200: a cold Node start, its database, and (for orders
 * and inventory) the revocation bucket auth creates, on a loaded 2-core machine that starts three at once.
 */
export const HEALTH_TIMEOUT_MS = 120_000;

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** Resolves once `GET url` answers 200; rejects when the process exits or the deadline passes. */
export async function waitHealthy(app: AppProcess, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (app.child.exitCode !== null || app.child.signalCode !== null) {
      // its last lines name the cause where a CI excerpt holds only the failure (they hold no secret: the log scan)
      const exit = app.child.signalCode ?? `code ${app.child.exitCode}`;
      await outputEnded(app.child);
      throw new Error(
        `${app.name} exited (${exit}) before ${url} answered 200; its last lines:\n${lastLines(app)}`,
      );
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await sleep(250);
  }
  throw new Error(
    `${app.name} was not healthy at ${url} within ${timeoutMs / 1000} s (last answer: ${last})`,
  );
}

function outputEnded(child: ChildProcess): Promise<unknown> {
  const streams = [child.stdout, child.stderr].filter((stream) => stream !== null);
  return Promise.all(
    streams.map((stream) => (stream.readableEnded ? undefined : finished(stream).catch(() => undefined))),
  );
}

function lastLines(app: AppProcess, count = 12): string {
  return (
    app.output
      .slice(-count)
      .map((line) => `  ${line}`)
      .join('\n') || '  (nothing)'
  );
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve();
  }
  return new Promise((done) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(killer);
      done();
    });
    child.kill('SIGTERM');
  });
}

/** SIGKILL at once (a crash: no shutdown hook runs); resolves when the process is gone. */
export function killProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve();
  }
  return new Promise((done) => {
    child.once('exit', () => done());
    child.kill('SIGKILL');
  });
}
