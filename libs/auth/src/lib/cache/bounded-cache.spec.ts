import { BoundedCache } from './bounded-cache';

describe(BoundedCache.name, () => {
  it('returns a value only before its expiry, and drops it after', () => {
    const cache = new BoundedCache<string>(10);
    cache.set('k', 'v', 1000);

    expect(cache.get('k', 999)).toBe('v');
    expect(cache.get('k', 1000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('evicts the least recently used entry beyond its bound', () => {
    const cache = new BoundedCache<number>(2);
    cache.set('a', 1, Infinity);
    cache.set('b', 2, Infinity);
    cache.get('a', 0);
    cache.set('c', 3, Infinity);

    expect([cache.get('a', 0), cache.get('b', 0), cache.get('c', 0)]).toEqual([1, undefined, 3]);
  });

  it('holds nothing with a bound of 0', () => {
    const cache = new BoundedCache<number>(0);
    cache.set('a', 1, Infinity);

    expect(cache.get('a', 0)).toBeUndefined();
  });

  it('forgets entries on delete and clear', () => {
    const cache = new BoundedCache<number>(5);
    cache.set('a', 1, Infinity);
    cache.set('b', 2, Infinity);
    cache.delete('a');
    expect(cache.get('a', 0)).toBeUndefined();
    cache.clear();
    expect(cache.size).toBe(0);
  });
});
