import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const WORKSPACE_ROOT = join(__dirname, '../../../../..');
const SERVICE = 'ledger';
const EXISTING = 'plain';

// CI proof of `nx g @relay/nx-plugin:service`: in a scratch copy of the workspace (its git-tracked and
// untracked-but-not-ignored files, node_modules linked), generate a service and secure a fresh
// `@nx/nest:app` app, then build, lint and test them there and run the service's e2e spec. Slow
// (minutes): `nx e2e nx-plugin`, not `nx test nx-plugin`.
describe('nx g @relay/nx-plugin:service in a scratch copy of the workspace', () => {
  let scratch: string;
  let packageJson: string;

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'relay-nx-plugin-'));
    const listed = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], {
      cwd: WORKSPACE_ROOT,
      encoding: 'utf-8',
      maxBuffer: 64 * 1024 * 1024,
    });
    for (const file of listed.split('\0')) {
      // a tracked file deleted in the work tree is still listed
      if (file === '' || !existsSync(join(WORKSPACE_ROOT, file))) continue;
      mkdirSync(dirname(join(scratch, file)), { recursive: true });
      copyFileSync(join(WORKSPACE_ROOT, file), join(scratch, file));
    }
    symlinkSync(join(WORKSPACE_ROOT, 'node_modules'), join(scratch, 'node_modules'), 'dir');
    packageJson = readFileSync(join(scratch, 'package.json'), 'utf-8');
  });

  afterAll(() => {
    if (scratch === undefined) return;
    // the link first, on its own: nothing may ever walk into the workspace's node_modules
    const link = join(scratch, 'node_modules');
    if (lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink()) unlinkSync(link);
    if (process.env['KEEP_SCRATCH'] === undefined) rmSync(scratch, { recursive: true, force: true });
  });

  it('generates a service whose build, lint, unit and e2e specs pass, and secures an existing app', async () => {
    nx('g', '@relay/nx-plugin:service', SERVICE, '--no-interactive');
    nx(
      'g',
      '@nx/nest:app',
      `apps/${EXISTING}`,
      '--no-interactive',
      '--skipPackageJson',
      '--e2eTestRunner=none',
      '--unitTestRunner=none',
    );
    nx('g', '@relay/nx-plugin:service', '--existing', EXISTING, '--no-interactive');
    // nothing was added to install: npm never ran against the linked node_modules
    expect(readFileSync(join(scratch, 'package.json'), 'utf-8')).toBe(packageJson);

    nx(
      'run-many',
      '-t',
      'build,lint,test',
      '-p',
      `${SERVICE},${SERVICE}-e2e,${EXISTING}`,
      '--outputStyle=stream',
    );
    nx('e2e', `${SERVICE}-e2e`, '--outputStyle=stream');
    run(process.execPath, [
      join(scratch, 'node_modules/typescript/bin/tsc'),
      '-p',
      `apps/${EXISTING}/tsconfig.app.json`,
      '--noEmit',
    ]);
    // @nx/nest:app's build is the one @nx/webpack/plugin infers (named webpack:build in this workspace)
    nx('run', `${EXISTING}:webpack:build`, '--outputStyle=stream');

    await expectSecured(join(scratch, 'dist/apps', EXISTING, 'main.js'));
  });

  /** Runs nx in the scratch copy; throws with the end of its output when it fails. */
  function nx(...args: string[]): void {
    run(process.execPath, [join(scratch, 'node_modules/nx/dist/bin/nx.js'), ...args]);
  }

  function run(command: string, args: string[]): void {
    const started = Date.now();
    const result = spawnSync(command, args, {
      cwd: scratch,
      env: scratchEnv(),
      encoding: 'utf-8',
      maxBuffer: 256 * 1024 * 1024,
    });
    const label = args.slice(1).join(' ');
    process.stderr.write(`[nx-plugin e2e] ${label}: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    if (result.status !== 0) {
      const output = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-80).join('\n');
      throw new Error(`${label} failed (${result.status ?? result.signal}):\n${output}`);
    }
  }
});

/**
 * The environment of every command in the scratch copy: no variable of the outer Nx run (task ids,
 * workspace paths), no daemon, and npm in dry-run mode — a generator that asks for an install must
 * not let npm rewrite node_modules, which is the workspace's own through the link.
 */
function scratchEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('NX_')));
  return { ...env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true', npm_config_dry_run: 'true' };
}

/** Starts the secured existing app (Express, global prefix `api`) on a private NATS: /api needs a token, /api/health not. */
async function expectSecured(main: string): Promise<void> {
  const natsPort = await freePort();
  const store = mkdtempSync(join(tmpdir(), 'relay-nx-plugin-nats-'));
  const nats = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(natsPort), '-sd', store], {
    stdio: 'ignore',
  });
  const port = await freePort();
  let app: ChildProcess | undefined;
  try {
    app = spawn(process.execPath, [main], {
      env: {
        ...process.env,
        PORT: String(port),
        NATS_URL: `nats://127.0.0.1:${natsPort}`,
        AUTH_ISSUER: 'http://127.0.0.1:9',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const health = await poll(`http://127.0.0.1:${port}/api/health`, app);
    const anonymous = await fetch(`http://127.0.0.1:${port}/api`);
    const forged = await fetch(`http://127.0.0.1:${port}/api`, {
      headers: { authorization: 'Bearer a.b.c' },
    });

    expect(health).toBe(200);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(forged.status).toBe(401);
  } finally {
    await stop(app);
    await stop(nats);
    rmSync(store, { recursive: true, force: true });
  }
}

/** The first status `url` answers 200 with, within 60 s; fails when `child` exits first. */
async function poll(url: string, child: ChildProcess): Promise<number> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the app exited with code ${child.exitCode}`);
    const status = await fetch(url).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return status;
    await new Promise((done) => setTimeout(done, 250));
  }
  throw new Error(`${url} did not answer 200 within 60 s`);
}

function stop(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}
