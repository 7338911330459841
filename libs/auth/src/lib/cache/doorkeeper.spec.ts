import { Doorkeeper } from './doorkeeper';

// distinct, well spread 32-bit keys, as a hash would give
const key = (index: number): number => Math.imul(index + 1, 0x9e3779b1) >>> 0;
const [a, b, c, d] = [1, 2, 3, 4].map(key);

describe(Doorkeeper.name, () => {
  it('answers "seen" from the second showing of a key on', () => {
    const doorkeeper = new Doorkeeper(10);

    const answers = [a, b, a, a, b, c].map((shown) => doorkeeper.seenBefore(shown));

    expect(answers).toEqual([false, false, true, true, true, false]);
  });

  it('remembers at most `capacity` keys: the next new key starts afresh', () => {
    const doorkeeper = new Doorkeeper(3);
    for (const shown of [a, b, c]) doorkeeper.seenBefore(shown);
    const withinPeriod = [a, b, c].map((shown) => doorkeeper.seenBefore(shown));

    doorkeeper.seenBefore(d);

    expect(withinPeriod).toEqual([true, true, true]);
    expect([d, a, b, c].map((shown) => doorkeeper.seenBefore(shown))).toEqual([true, false, false, false]);
  });

  it('never forgets a key within its period, and rarely claims one it was not shown (under 1 % at capacity)', () => {
    const capacity = 10_000;
    const doorkeeper = new Doorkeeper(capacity);
    const shown = Array.from({ length: capacity - 1000 }, (_, index) => key(index));
    for (const item of shown) doorkeeper.seenBefore(item);

    const forgotten = shown.filter((item) => !doorkeeper.seenBefore(item));
    const fresh = Array.from({ length: 1000 }, (_, index) => key(capacity + index));
    const falselySeen = fresh.filter((item) => doorkeeper.seenBefore(item));

    expect(forgotten).toEqual([]);
    expect(falselySeen.length).toBeLessThan(10);
  });
});
