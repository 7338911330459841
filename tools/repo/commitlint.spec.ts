import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// commitlint is ESM-only and Jest loads CommonJS: the spec runs it as the commit-msg hook does.
const ROOT = join(__dirname, '../..');
const COMMITLINT = join(ROOT, 'node_modules/.bin/commitlint');

/** `name` of every project.json under apps/, libs/, bench/ and tools/. */
function workspaceProjects(): string[] {
  const found: string[] = [];
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.name === 'project.json') {
        found.push((JSON.parse(readFileSync(path, 'utf8')) as { name: string }).name);
      }
    }
  };
  for (const top of ['apps', 'libs', 'bench', 'tools']) visit(join(ROOT, top));
  return found.sort();
}

function accepts(message: string): boolean {
  return spawnSync(COMMITLINT, [], { cwd: ROOT, input: message, encoding: 'utf8' }).status === 0;
}

describe('commit messages (commitlint.config.mjs, run by the commit-msg hook)', () => {
  it('allows the workspace projects as scopes', () => {
    const script =
      "import('./commitlint.config.mjs').then((c) => console.log(JSON.stringify(c.PROJECT_SCOPES)))";
    const scopes = JSON.parse(
      execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' }),
    );

    expect(scopes).toEqual(workspaceProjects());
  });

  it.each([
    'feat(orders): keep failed orders when inventory times out',
    'refactor(testing,orders-e2e): one private nats-server helper',
    'chore(deps): bump jose',
    'docs(repo): README says what the git hooks check',
  ])('accepts %j', (message) => {
    expect(accepts(message)).toBe(true);
  });

  it.each([
    ['no scope', 'fix: something'],
    ['an unknown scope', 'fix(payments): something'],
    ['no type', 'orders: something'],
    ['a header over 100 characters', `fix(orders): ${'x'.repeat(90)}`],
  ])('refuses a message with %s', (_reason, message) => {
    expect(accepts(message)).toBe(false);
  });
});
