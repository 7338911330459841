import { watchSilence } from './silence-watch';

const LIMIT_MS = 700;
const INTERVAL_MS = 150;

describe(watchSilence.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  /** A watch whose ticks and silence are counted. */
  function watch() {
    const seen = { ticks: 0, silent: 0 };
    const silence = watchSilence(
      LIMIT_MS,
      INTERVAL_MS,
      () => (seen.silent += 1),
      () => (seen.ticks += 1),
    );
    return { seen, silence };
  }

  /** The process stands still for `ms`: the clock moves on, no timer runs meanwhile. */
  function standStill(ms: number): void {
    jest.setSystemTime(Date.now() + ms);
  }

  /** From now on every reading of the clock finds it a millisecond later, as on a loaded machine. */
  function clockMovesOnEachReading(): void {
    const now = Date.now.bind(Date);
    let readings = 0;
    jest.spyOn(Date, 'now').mockImplementation(() => now() + (readings += 1));
  }

  it('reports a silence longer than the limit once, within an interval of it', () => {
    const { seen, silence } = watch();

    jest.advanceTimersByTime(LIMIT_MS);
    expect(seen.silent).toBe(0);
    jest.advanceTimersByTime(INTERVAL_MS);
    expect(seen.silent).toBe(1);
    jest.advanceTimersByTime(10 * LIMIT_MS);
    expect(seen.silent).toBe(1);
    silence.stop();
  });

  it('starts the silence again at each heard()', () => {
    const { seen, silence } = watch();

    for (let i = 0; i < 10; i += 1) {
      jest.advanceTimersByTime(LIMIT_MS / 2);
      silence.heard();
    }

    expect(seen.silent).toBe(0);
    expect(seen.ticks).toBeGreaterThan(0);
    silence.stop();
  });

  // the tick after a stall reads the clock once: the forgiven silence sits at the limit exactly, and a
  // second reading a millisecond later took it over, reported lost with no probe sent
  it('takes no stall of its own process for silence, however the clock moves while it judges', () => {
    const { seen, silence } = watch();
    jest.advanceTimersByTime(INTERVAL_MS);
    clockMovesOnEachReading();

    standStill(1500);
    jest.advanceTimersByTime(INTERVAL_MS);
    jest.advanceTimersByTime(1); // the turn's setImmediate

    expect(seen.silent).toBe(0);
    expect(seen.ticks).toBe(2);
    silence.stop();
  });

  it('gives the probe sent after a stall one interval to be answered', () => {
    const answered = watch();
    const unanswered = watch();
    jest.advanceTimersByTime(INTERVAL_MS);

    standStill(1500);
    jest.advanceTimersByTime(INTERVAL_MS);
    answered.silence.heard();
    jest.advanceTimersByTime(INTERVAL_MS);
    jest.advanceTimersByTime(1); // the turn's setImmediate

    expect(answered.seen.silent).toBe(0);
    expect(unanswered.seen.silent).toBe(1);
    answered.silence.stop();
  });

  it('forgives one stall per heard(): under load every tick is late, and silence must still count', () => {
    const { seen } = watch();

    for (let i = 0; i < 3 && seen.silent === 0; i += 1) {
      standStill(400);
      jest.advanceTimersByTime(INTERVAL_MS);
    }

    expect(seen.silent).toBe(1);
  });

  it('calls nothing once stopped', () => {
    const { seen, silence } = watch();

    silence.stop();
    jest.advanceTimersByTime(10 * LIMIT_MS);

    expect(seen).toEqual({ ticks: 0, silent: 0 });
  });
});
