import { PhaseCpuMeter } from './phase-cpu';

/** A meter on a clock and a CPU clock the test moves by hand, 100 ms phases. */
function meterAt(readable = true) {
  let now = 0;
  let cpu = 0;
  const meter = new PhaseCpuMeter(
    () => (readable ? cpu : undefined),
    () => now,
    100,
  );
  /** In the phase starting at `startMs`: `fromA` calls of `a` and `fromB` of `b` end, each costing its CPU. */
  const phase = (startMs: number, fromA: number, fromB: number, cost = { a: 10, b: 14 }): void => {
    now = startMs;
    meter.tick();
    for (let index = 0; index < fromA; index += 1) {
      cpu += cost.a;
      meter.completed(0);
    }
    for (let index = 0; index < fromB; index += 1) {
      cpu += cost.b;
      meter.completed(1);
    }
  };
  return { meter, phase };
}

describe(PhaseCpuMeter.name, () => {
  it("recovers each variant's CPU per call when the calls in flight at each change end in the next phase", () => {
    const { meter, phase } = meterAt();
    phase(0, 999, 0, { a: 1000, b: 1000 }); // cut by the start: ignored
    phase(100, 20, 180); // b's phase: 20 of a's calls end in it
    phase(200, 190, 20);
    phase(300, 25, 170);
    phase(400, 185, 25);
    phase(500, 999, 999, { a: 1000, b: 1000 }); // cut by the end: never closed

    const result = meter.result();

    expect(result?.a).toBeCloseTo(10);
    expect(result?.b).toBeCloseTo(14);
  });

  it('leaves a phase in which no call starts or ends to the segment before it', () => {
    const { meter, phase } = meterAt();
    phase(0, 5, 0);
    phase(100, 10, 100); // b's phase, and phase 2 (a's) sees no call: one segment from 100 to 300 ms
    phase(300, 10, 100);
    phase(400, 100, 10);
    phase(500, 10, 100);
    phase(600, 0, 0);

    const result = meter.result();

    expect(result?.a).toBeCloseTo(10);
    expect(result?.b).toBeCloseTo(14);
  });

  it('gives no figure when the CPU clock cannot be read', () => {
    const { meter, phase } = meterAt(false);
    phase(0, 10, 0);
    phase(100, 10, 100);
    phase(200, 100, 10);
    phase(300, 0, 0);

    expect(meter.result()).toBeUndefined();
  });

  it('gives no figure when the two kinds of phase hold the same mix', () => {
    const { meter, phase } = meterAt();
    phase(0, 10, 10);
    phase(100, 10, 10);
    phase(200, 10, 10);
    phase(300, 0, 0);

    expect(meter.result()).toBeUndefined();
  });
});
