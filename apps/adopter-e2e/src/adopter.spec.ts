// @relay/auth as an adopter gets it: the packed tarball, installed with Nest from the registry into a
// fresh app in a temporary directory outside the workspace (its own package.json, compiler and test
// runner; nothing resolves into the monorepo), whose own spec (adopter/src/app.spec.ts) must pass on
// Fastify and on Express. `nx e2e adopter-e2e` builds the package first (dependsOn auth-lib:build).
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const WORKSPACE = join(__dirname, '../../..');
const PACKAGE_DIR = join(WORKSPACE, 'dist/libs/auth');
const ADOPTER = join(__dirname, '../adopter');
const INSTALL_TIMEOUT_MS = 150_000;
const SPEC_TIMEOUT_MS = 60_000;

/** What the adopter installs from the registry, at the versions the workspace builds and tests with. */
const FROM_REGISTRY = [
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/microservices',
  '@nestjs/platform-express',
  '@nestjs/platform-fastify',
  'nats',
  'reflect-metadata',
  'rxjs',
];
const DEV_FROM_REGISTRY = ['typescript', '@types/node'];

interface Run {
  code: number | null;
  output: string;
}

/** Runs `command` in `cwd` without the workspace's npm environment, collecting stdout and stderr. */
function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) && name !== 'NODE_OPTIONS'),
  );
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

function expectSuccess(result: Run, what: string): void {
  if (result.code !== 0) throw new Error(`${what} exited with ${result.code}:\n${result.output}`);
}

const installedVersion = (name: string): string =>
  (
    JSON.parse(readFileSync(join(WORKSPACE, 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;

describe('@relay/auth in a Nest app outside the monorepo', () => {
  let appDir: string;
  let packedFiles: string[];

  beforeAll(async () => {
    appDir = mkdtempSync(join(tmpdir(), 'relay-adopter-'));
    const packed = await run('npm', ['pack', '--json', '--pack-destination', appDir], PACKAGE_DIR);
    expectSuccess(packed, 'npm pack');
    const [tarball] = JSON.parse(packed.output.slice(packed.output.indexOf('['))) as {
      filename: string;
      files: { path: string }[];
    }[];
    packedFiles = tarball.files.map((file) => file.path);

    cpSync(join(ADOPTER, 'src'), join(appDir, 'src'), { recursive: true });
    cpSync(join(ADOPTER, 'tsconfig.json'), join(appDir, 'tsconfig.json'));
    const pinned = (names: string[]): Record<string, string> =>
      Object.fromEntries(names.map((name) => [name, installedVersion(name)]));
    const manifest = {
      name: 'shop',
      private: true,
      scripts: {
        build: 'tsc -p tsconfig.json',
        test: 'tsc -p tsconfig.json && node --test dist/app.spec.js',
      },
      dependencies: { ...pinned(FROM_REGISTRY), '@relay/auth': `file:./${tarball.filename}` },
      devDependencies: pinned(DEV_FROM_REGISTRY),
    };
    writeFileSync(join(appDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const install = await run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'],
      appDir,
    );
    expectSuccess(install, 'npm install');
  }, INSTALL_TIMEOUT_MS);

  afterAll(() => {
    if (appDir !== undefined) rmSync(appDir, { recursive: true, force: true });
  });

  it('is one tarball with the compiled code, its types, the README and nothing of the workspace by path', () => {
    expect(packedFiles).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'lib/auth/src/index.js',
        'lib/auth/src/index.d.ts',
        'lib/auth/src/test-support/index.js',
        'testing/package.json',
      ]),
    );
    expect(packedFiles.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
    const installed = join(appDir, 'node_modules/@relay/auth');
    for (const file of packedFiles.filter((path) => path.endsWith('.js') || path.endsWith('.d.ts'))) {
      expect(readFileSync(join(installed, file), 'utf8')).not.toMatch(
        /(require\(|from |import\()["']@relay\//,
      );
    }
  });

  it(
    "compiles the adopter's code against the package's types (exports and node10 resolution alike)",
    async () => {
      expectSuccess(await run('npx', ['tsc', '-p', 'tsconfig.json'], appDir), 'tsc');
      // TypeScript's node10 resolution (older Nest tsconfigs) ignores `exports`: the testing/ stub serves it
      expectSuccess(
        await run(
          'npx',
          [
            'tsc',
            '-p',
            'tsconfig.json',
            '--noEmit',
            '--moduleResolution',
            'node10',
            '--ignoreDeprecations',
            '6.0',
          ],
          appDir,
        ),
        'tsc (node10)',
      );
      expect(existsSync(join(appDir, 'dist/app.spec.js'))).toBe(true);
    },
    SPEC_TIMEOUT_MS,
  );

  it.each(['fastify', 'express'])(
    "passes the adopter's own spec on %s: tokens refused and accepted over HTTP and NATS, headers carried on",
    async (adapter) => {
      const result = await run('node', ['--test', '--test-reporter=tap', 'dist/app.spec.js'], appDir, {
        ADAPTER: adapter,
      });
      expectSuccess(result, `the adopter's spec on ${adapter}`);
      expect(result.output).toMatch(/^# fail 0$/m);
      expect(result.output).toMatch(/^# pass [1-9]\d*$/m);
    },
    SPEC_TIMEOUT_MS,
  );
});
