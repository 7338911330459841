import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const SHELL_SCRIPTS = ['.ci/run', 'tools/scripts/ensure-services.sh', 'tools/scripts/other-node-versions.sh'];

function run(command: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(command, args, {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 10_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('shell scripts', () => {
  it.each(SHELL_SCRIPTS)('%s parses (bash -n)', (script) => {
    expect(run('bash', ['-n', script])).toEqual({ status: 0, output: '' });
  });

  it.each(SHELL_SCRIPTS)('%s stops on the first error (set -euo pipefail)', (script) => {
    expect(readFileSync(join(ROOT, script), 'utf8')).toMatch(/^set -euo pipefail$/m);
  });

  it.each([...SHELL_SCRIPTS, 'tools/scripts/demo.mjs'])(
    '%s names its caller on its header line',
    (script) => {
      const lines = readFileSync(join(ROOT, script), 'utf8').split('\n');
      const header = lines[0].startsWith('#!') ? lines[1] : lines[0];
      expect(header).toMatch(/^(#|\/\/) (Called by|CI entry point)/);
    },
  );

  it('.ci/run installs from the lockfile as is, then ensures services, then runs npm test', () => {
    const script = readFileSync(join(ROOT, '.ci/run'), 'utf8');
    const steps = ['npm ci', 'bash tools/scripts/ensure-services.sh', 'npm test'].map((step) =>
      script.search(new RegExp(`^${step}\\b`, 'm')),
    );
    expect(steps.every((index) => index >= 0)).toBe(true);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
    expect(script).not.toMatch(/--force|--legacy-peer-deps/);
  });

  it('ensure-services.sh refuses unknown arguments without touching any service', () => {
    const result = run('bash', ['tools/scripts/ensure-services.sh', '--nope']);
    expect(result.status).toBe(2);
    expect(result.output).toMatch(/unknown argument '--nope'/);
  });
});

describe('demo.mjs', () => {
  it('parses (node --check)', () => {
    expect(run(process.execPath, ['--check', 'tools/scripts/demo.mjs'])).toEqual({ status: 0, output: '' });
  });

  it('is what npm start runs', () => {
    const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(packageJson.scripts.start).toBe('node tools/scripts/demo.mjs');
  });
});
