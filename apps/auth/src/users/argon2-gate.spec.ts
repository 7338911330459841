import { ServiceUnavailableException } from '@nestjs/common';

import { Argon2Gate } from './argon2-gate';

/** A task that runs until `finish()` is called, recording when it started. */
function heldTask(started: string[], name: string): { task: () => Promise<string>; finish: () => void } {
  let finish = (): void => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    task: async () => {
      started.push(name);
      await done;
      return name;
    },
    finish: () => finish(),
  };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe(Argon2Gate.name, () => {
  it('runs at most `concurrency` tasks at once, and a waiting verification before a waiting hash', async () => {
    const gate = new Argon2Gate(2, 10);
    const started: string[] = [];
    const [a, b, hash1, hash2, verify] = ['a', 'b', 'hash1', 'hash2', 'verify'].map((name) =>
      heldTask(started, name),
    );

    const results = [
      gate.run('hash', a.task),
      gate.run('hash', b.task),
      gate.run('hash', hash1.task),
      gate.run('hash', hash2.task),
      gate.run('verify', verify.task),
    ];
    await flush();
    expect(started).toEqual(['a', 'b']);

    a.finish();
    await flush();
    expect(started).toEqual(['a', 'b', 'verify']);

    for (const held of [b, verify, hash1, hash2]) {
      held.finish();
      await flush();
    }
    await expect(Promise.all(results)).resolves.toEqual(['a', 'b', 'hash1', 'hash2', 'verify']);
    expect(started).toEqual(['a', 'b', 'verify', 'hash1', 'hash2']);
  });

  it('refuses with 503 beyond `maxWaiting` of a kind, and frees its slot when a task fails', async () => {
    const gate = new Argon2Gate(1, 1);
    const started: string[] = [];
    const running = heldTask(started, 'running');
    const waiting = heldTask(started, 'waiting');

    const first = gate.run('hash', running.task);
    const second = gate.run('hash', waiting.task);
    await flush();

    await expect(gate.run('hash', () => Promise.resolve('third'))).rejects.toBeInstanceOf(
      ServiceUnavailableException,
    );
    running.finish();
    waiting.finish();
    await expect(Promise.all([first, second])).resolves.toEqual(['running', 'waiting']);
    await expect(gate.run('verify', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.run('verify', () => Promise.resolve('after'))).resolves.toBe('after');
  });
});
