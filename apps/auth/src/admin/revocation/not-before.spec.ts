import { afterSecondOf, epochSeconds } from './not-before';

describe(afterSecondOf.name, () => {
  afterEach(() => jest.restoreAllMocks());

  it('resolves once the clock has left the second, even when its timer fires early', async () => {
    // a timer is due by the event loop's monotonic clock, in whole milliseconds; the wall clock that
    // dates tokens can still be in the old second when it fires (here: 20 ms early, every time)
    const realSetTimeout = global.setTimeout;
    jest
      .spyOn(global, 'setTimeout')
      .mockImplementation(((callback: () => void, ms?: number) =>
        realSetTimeout(callback, Math.max(0, (ms ?? 0) - 20))) as typeof setTimeout);
    // start early in a second, so the second has more left than the timer's error
    while (Date.now() % 1000 > 900) await new Promise((resolve) => realSetTimeout(resolve, 5));
    const at = new Date();

    await afterSecondOf(at);

    expect(epochSeconds(new Date())).toBeGreaterThan(epochSeconds(at));
  });

  it('resolves without waiting when the second is over already', async () => {
    const timers = jest.spyOn(global, 'setTimeout');

    await afterSecondOf(new Date(Date.now() - 1000));

    expect(timers).not.toHaveBeenCalled();
  });
});
