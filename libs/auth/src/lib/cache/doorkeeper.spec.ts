import { Doorkeeper } from './doorkeeper';

describe(Doorkeeper.name, () => {
  it('answers "seen" from the second showing of a key on', () => {
    const doorkeeper = new Doorkeeper(10);

    const answers = ['a', 'b', 'a', 'a', 'b', 'c'].map((key) => doorkeeper.seenBefore(key));

    expect(answers).toEqual([false, false, true, true, true, false]);
  });

  it('remembers at most `capacity` keys: the next new key starts afresh', () => {
    const doorkeeper = new Doorkeeper(3);
    for (const key of ['a', 'b', 'c']) doorkeeper.seenBefore(key);
    const withinPeriod = ['a', 'b', 'c'].map((key) => doorkeeper.seenBefore(key));

    doorkeeper.seenBefore('d');

    expect(withinPeriod).toEqual([true, true, true]);
    expect(['d', 'a', 'b', 'c'].map((key) => doorkeeper.seenBefore(key))).toEqual([
      true,
      false,
      false,
      false,
    ]);
  });

  it('never forgets a key within its period, and rarely claims one it was not shown (under 1 % at capacity)', () => {
    const capacity = 10_000;
    const doorkeeper = new Doorkeeper(capacity);
    const shown = Array.from({ length: capacity - 1000 }, (_, index) => `shown-${index}`);
    for (const key of shown) doorkeeper.seenBefore(key);

    const forgotten = shown.filter((key) => !doorkeeper.seenBefore(key));
    const fresh = Array.from({ length: 1000 }, (_, index) => `fresh-${index}`);
    const falselySeen = fresh.filter((key) => doorkeeper.seenBefore(key));

    expect(forgotten).toEqual([]);
    expect(falselySeen.length).toBeLessThan(10);
  });
});
