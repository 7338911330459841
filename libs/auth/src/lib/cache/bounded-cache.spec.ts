import { BoundedCache } from './bounded-cache';

// a clock stopped at `ms`
const at =
  (ms: number): (() => number) =>
  () =>
    ms;

describe(BoundedCache.name, () => {
  it('returns a value only before its expiry, and drops it after', () => {
    const cache = new BoundedCache<string, string>(10);
    cache.set('k', 'v', 1000);

    expect(cache.get('k', at(999))).toBe('v');
    expect(cache.get('k', at(1000))).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('reads the clock only for a key it holds', () => {
    const cache = new BoundedCache<string, string>(10);
    cache.set('k', 'v', 1000);
    const clock = jest.fn(() => 0);
    cache.get('other', clock);
    expect(clock).not.toHaveBeenCalled();
    expect(cache.get('k', clock)).toBe('v');
    expect(clock).toHaveBeenCalledTimes(1);
  });

  it('evicts the least recently used entry beyond its bound', () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set('a', 1, Infinity);
    cache.set('b', 2, Infinity);
    cache.get('a', at(0));
    cache.set('c', 3, Infinity);

    expect([cache.get('a', at(0)), cache.get('b', at(0)), cache.get('c', at(0))]).toEqual([1, undefined, 3]);
  });

  it('holds nothing with a bound of 0', () => {
    const cache = new BoundedCache<string, number>(0);
    cache.set('a', 1, Infinity);

    expect(cache.get('a', at(0))).toBeUndefined();
  });

  it('forgets entries on delete and clear', () => {
    const cache = new BoundedCache<string, number>(5);
    cache.set('a', 1, Infinity);
    cache.set('b', 2, Infinity);
    cache.delete('a');
    expect(cache.get('a', at(0))).toBeUndefined();
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('matches a reference LRU over a long random sequence of gets, sets and deletes', () => {
    const cache = new BoundedCache<string, number>(8);
    const reference = new Map<string, { value: number; expiresAt: number }>();
    let seed = 7;
    const next = (bound: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % bound;
    };
    for (let step = 0; step < 5000; step += 1) {
      const key = `k${next(20)}`;
      const now = step;
      const operation = next(10);
      if (operation < 5) {
        const entry = reference.get(key);
        reference.delete(key);
        if (entry !== undefined && now < entry.expiresAt) reference.set(key, entry);
        expect(cache.get(key, at(now))).toBe(
          entry !== undefined && now < entry.expiresAt ? entry.value : undefined,
        );
      } else if (operation < 9) {
        reference.delete(key);
        reference.set(key, { value: step, expiresAt: step + next(200) });
        while (reference.size > 8) reference.delete(reference.keys().next().value as string);
        cache.set(key, step, reference.get(key)?.expiresAt ?? 0);
      } else {
        reference.delete(key);
        cache.delete(key);
      }
      expect(cache.size).toBe(reference.size);
    }
  });

  it('serves a hit in a full 10 000-entry cache without re-inserting into its map (a client reusing its token)', () => {
    const cache = new BoundedCache<string, number>(10_000);
    const keys = Array.from({ length: 10_000 }, (_, index) => `token-${index}-${'x'.repeat(400)}`);
    for (const key of keys) cache.set(key, 1, Infinity);
    // Map delete + set per hit, the usual LRU trick, took ~25 µs here on a map this full (Node 20);
    // the design moves list pointers instead: the map is not written on a hit at all
    const map = (cache as unknown as { entries: Map<string, unknown> }).entries;
    const writes = [jest.spyOn(map, 'set'), jest.spyOn(map, 'delete')];

    for (const key of [keys[0], keys[5000], keys[0], keys[9999]]) expect(cache.get(key, at(0))).toBe(1);

    for (const write of writes) expect(write).not.toHaveBeenCalled();
    expect(cache.size).toBe(10_000);
    // and the hits count as uses: the next eviction takes the oldest untouched key, not keys[0]
    cache.set('newcomer', 1, Infinity);
    expect(cache.get(keys[0], at(0))).toBe(1);
    expect(cache.get(keys[1], at(0))).toBeUndefined();
  });
});
