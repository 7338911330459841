import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { BatchedDestination } from './batched-destination';

/** A sink that records each write it is given. */
function recordingSink(): { writes: string[]; write(data: string): void } {
  const writes: string[] = [];
  return { writes, write: (data) => void writes.push(data) };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('BatchedDestination', () => {
  it('writes the lines of one turn with one write, once the turn is over', async () => {
    const sink = recordingSink();
    const destination = new BatchedDestination(sink);
    destination.write('{"a":1}\n');
    destination.write('{"a":2}\n');
    destination.write('{"a":3}\n');
    expect(sink.writes).toEqual([]);
    await nextTurn();
    expect(sink.writes).toEqual(['{"a":1}\n{"a":2}\n{"a":3}\n']);
  });

  it('starts a new batch in the next turn, and writes nothing for a turn without lines', async () => {
    const sink = recordingSink();
    const destination = new BatchedDestination(sink);
    destination.write('first\n');
    await nextTurn();
    await nextTurn();
    destination.write('second\n');
    await nextTurn();
    expect(sink.writes).toEqual(['first\n', 'second\n']);
  });

  it('writes what is gathered at once on flush, and nothing twice', async () => {
    const sink = recordingSink();
    const destination = new BatchedDestination(sink);
    destination.write('line\n');
    destination.flush();
    expect(sink.writes).toEqual(['line\n']);
    destination.flush();
    await nextTurn();
    expect(sink.writes).toEqual(['line\n']);
  });

  it('loses no line when the process exits in the turn that logged it (batchedStdout)', () => {
    const module = join(__dirname, 'batched-destination.ts');
    const script = [
      `const { batchedStdout } = require(${JSON.stringify(module)});`,
      'const out = batchedStdout();',
      'out.write(\'{"n":1}\\n\');',
      'out.write(\'{"n":2}\\n\');',
      'process.exit(3);',
    ].join('\n');
    const child = spawnSync(process.execPath, ['-r', '@swc-node/register', '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(3);
    expect(child.stdout).toBe('{"n":1}\n{"n":2}\n');
  });
});
