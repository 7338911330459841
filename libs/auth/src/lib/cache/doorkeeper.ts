const BITS_PER_KEY = 16;
const MIN_BITS = 1 << 16;

/**
 * Admission to a bounded cache (the "doorkeeper" of TinyLFU, Einziger et al. 2017): remembers which
 * keys it has been shown, so a cache can take a key only from its second sighting on. A key shown
 * once (a one-shot token, a scan) then costs the cache nothing: no entry that lives long enough to
 * be copied by the garbage collector, no eviction of a key that is in use.
 *
 * Keys are hashes of up to 32 bits (the caller's): a Bloom filter over a fixed bit array, two bits
 * per key, no objects. It remembers the last `capacity` keys at most: after `capacity` new keys it
 * forgets them all and starts again. It can answer "seen" for a key it was never shown (about 0.5 % of keys
 * at capacity, plus keys whose hashes collide); never the reverse within one period.
 */
export class Doorkeeper {
  private readonly bits: Uint32Array;
  private readonly mask: number;
  private remembered = 0;

  constructor(private readonly capacity: number) {
    let size = MIN_BITS;
    while (size < capacity * BITS_PER_KEY) size *= 2;
    this.bits = new Uint32Array(size / 32);
    this.mask = size - 1;
  }

  /** Whether `key` (a hash of up to 32 bits) was shown before; remembers it when it was not. */
  seenBefore(key: number): boolean {
    const first = key;
    const second = mix(key);
    if (this.has(first) && this.has(second)) return true;
    if (this.remembered >= this.capacity) this.forgetAll();
    this.mark(first);
    this.mark(second);
    this.remembered += 1;
    return false;
  }

  private has(hash: number): boolean {
    const bit = hash & this.mask;
    return (this.bits[bit >>> 5] & (1 << (bit & 31))) !== 0;
  }

  private mark(hash: number): void {
    const bit = hash & this.mask;
    this.bits[bit >>> 5] |= 1 << (bit & 31);
  }

  private forgetAll(): void {
    this.bits.fill(0);
    this.remembered = 0;
  }
}

/** MurmurHash3's finaliser: a second, independent-enough bit position from the first hash. */
function mix(hash: number): number {
  let mixed = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  mixed = Math.imul(mixed ^ (mixed >>> 13), 0xc2b2ae35);
  return (mixed ^ (mixed >>> 16)) >>> 0;
}
