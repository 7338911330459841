import { isVariantB, mainThreadCpuClock, PhaseTally, runAlternatingBatches } from './alternating';

/** A tally on a clock the test moves by hand, 100 ms phases. */
function tallyAt(): { tally: PhaseTally; at: (ms: number) => void } {
  let now = 0;
  return { tally: new PhaseTally(100, () => now), at: (ms) => (now = ms) };
}

/** Starts and ends `calls` calls at `startMs` / `endMs`. */
function calls(
  tally: PhaseTally,
  at: (ms: number) => void,
  count: number,
  startMs: number,
  endMs = startMs,
): void {
  for (let index = 0; index < count; index += 1) {
    at(startMs);
    const phase = tally.phaseNow();
    at(endMs);
    tally.settle(phase, true);
  }
}

describe(PhaseTally.name, () => {
  it('gives odd phases to variant b', () => {
    expect([0, 1, 2, 3].map(isVariantB)).toEqual([false, true, false, true]);
  });

  it('compares the rates of whole phases, leaving out the first and the last', () => {
    const { tally, at } = tallyAt();
    calls(tally, at, 999, 50); // phase 0: cut by the start, ignored
    calls(tally, at, 100, 150); // phase 1 (b)
    calls(tally, at, 200, 250); // phase 2 (a)
    calls(tally, at, 90, 350); // phase 3 (b)
    calls(tally, at, 200, 450); // phase 4 (a)
    calls(tally, at, 999, 550); // phase 5: cut by the end, ignored

    const result = tally.result();

    expect(result.phases).toBe(4);
    expect(result.aPerSecond).toBe(2000);
    expect(result.bPerSecond).toBe(950);
    expect(result.ratio).toBeCloseTo(0.475);
  });

  it('counts a call only in the phase it started and ended in', () => {
    const { tally, at } = tallyAt();
    calls(tally, at, 1, 50);
    calls(tally, at, 10, 120, 180); // phase 1, within it
    calls(tally, at, 5, 190, 210); // started in 1, ended in 2: neither
    calls(tally, at, 10, 220, 260); // phase 2
    calls(tally, at, 1, 350);

    const result = tally.result();

    expect(result.bPerSecond).toBe(100);
    expect(result.aPerSecond).toBe(100);
    expect(result.ratio).toBe(1);
  });

  it('counts failures apart and never as completed calls', () => {
    const { tally, at } = tallyAt();
    calls(tally, at, 1, 50);
    calls(tally, at, 10, 150);
    at(160);
    tally.settle(tally.phaseNow(), false);
    calls(tally, at, 10, 250);
    calls(tally, at, 1, 350);

    const result = tally.result();

    expect(result.failures).toBe(1);
    expect(result.ratio).toBe(1);
  });

  it('has no ratio before two whole phases ran', () => {
    const { tally, at } = tallyAt();
    calls(tally, at, 5, 50);
    calls(tally, at, 5, 150);

    expect(tally.result().ratio).toBeNaN();
  });
});

describe(runAlternatingBatches.name, () => {
  it('runs both variants the same number of times, in batches whose order alternates', async () => {
    const log: string[] = [];
    const call = (name: string) => (): Promise<void> => {
      log.push(name);
      return Promise.resolve();
    };

    const result = await runAlternatingBatches(call('a'), call('b'), 2, 0);

    expect(log.join('')).toBe('aabb');
    expect(result.calls).toBe(2);
  });

  it("charges each variant the main thread's CPU time read around its own batches", async () => {
    let cpuNs = 0;
    // a takes 3 µs of CPU per call, b 5 µs: the clock advances only while a batch runs
    const costs = (micros: number) => (): Promise<void> => {
      cpuNs += micros * 1000;
      return Promise.resolve();
    };

    const result = await runAlternatingBatches(costs(3), costs(5), 4, 0, () => cpuNs);

    expect([result.aThreadCpu, result.bThreadCpu]).toEqual([3, 5]);
  });

  it('reports no thread CPU without a clock', async () => {
    const call = (): Promise<void> => Promise.resolve();

    const result = await runAlternatingBatches(call, call, 1, 0);

    expect(result.aThreadCpu).toBeUndefined();
  });

  const onLinux = process.platform === 'linux' ? it : it.skip;

  onLinux("reads the main thread's CPU clock (Linux), rising as the thread works", () => {
    const clock = mainThreadCpuClock();
    const before = clock?.() ?? Number.NaN;
    // the kernel brings the sum up to date at its next tick (10 ms at most at 100 Hz): work until then,
    // at least once (a tick may fall between the first two reads)
    const deadline = Date.now() + 2000;
    let spins = 0;
    do {
      for (let index = 0; index < 100_000; index += 1) spins += index % 7;
    } while ((clock?.() ?? Number.NaN) === before && Date.now() < deadline);

    expect(spins).toBeGreaterThan(0);
    expect((clock?.() ?? Number.NaN) - before).toBeGreaterThan(0);
  });

  it('compares the time per call of the two variants', async () => {
    const slow = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));
    const fast = (): Promise<void> => Promise.resolve();

    const result = await runAlternatingBatches(slow, fast, 3, 0.05);

    expect(result.calls % 3).toBe(0);
    expect(result.calls).toBeGreaterThanOrEqual(3);
    expect(result.timeRatio).toBeLessThan(0.5);
    expect(result.bOps).toBeGreaterThan(result.aOps);
  });
});
