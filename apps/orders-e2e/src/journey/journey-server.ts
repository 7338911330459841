import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { stopProcess, WORKSPACE_ROOT } from '../support/app-processes';

/** The page's server (an ES module the spec cannot import under Jest's CommonJS runtime: it runs as a child). */
const SERVE_SCRIPT = join(WORKSPACE_ROOT, 'tools/scripts/journey/serve.mjs');
const START_TIMEOUT_MS = 15_000;

export interface JourneyRelayUrls {
  auth: string;
  orders: string;
  inventory: string;
}

/**
 * tools/scripts/journey/serve.mjs on a port chosen before the apps start: the apps are started with
 * `OTEL_EXPORTER_OTLP_ENDPOINT` = {@link otlpEndpointAt}(port), the page needs the apps' URLs, so the
 * page starts once the apps are up (their first spans, health probes, are of no interest).
 */
export class JourneyServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(port: number, relayUrls: JourneyRelayUrls): Promise<JourneyServer> {
    const args = [SERVE_SCRIPT, '--port', String(port)];
    for (const [service, url] of Object.entries(relayUrls)) args.push(`--${service}`, url);
    const child = spawn(process.execPath, args, { cwd: WORKSPACE_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(`[journey] ${chunk.toString()}`));
    try {
      return new JourneyServer(child, await pageUrlOf(child));
    } catch (error) {
      await stopProcess(child, 2000);
      throw error;
    }
  }

  async stop(): Promise<void> {
    await stopProcess(this.child, 5000);
  }
}

/** What the apps export their spans to for a journey server on `port` (they append /v1/traces). */
export function otlpEndpointAt(port: number): string {
  return `http://127.0.0.1:${port}`;
}

// serve.mjs prints `[journey] page <url> otlp <endpoint>` once it listens
function pageUrlOf(child: ChildProcess): Promise<string> {
  return new Promise((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`the journey server did not start within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(new Error(`the journey server exited (${signal ?? `code ${code}`}) before it listened`));
    });
    if (child.stdout === null) return fail(new Error('the journey server has no stdout'));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /^\[journey\] page (\S+)/.exec(line);
      if (match === null) return;
      clearTimeout(timer);
      done(match[1]);
    });
  });
}
