import { InFlight } from './in-flight';

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe(InFlight.name, () => {
  it('is idle at once when nothing was tracked', async () => {
    await expect(new InFlight().idle()).resolves.toBeUndefined();
  });

  it('counts a promise until it settles, rejected or not', async () => {
    const calls = new InFlight();
    const first = gate();
    const second = gate();
    const tracked = [
      calls.track(() => first.opened),
      calls.track(() => second.opened.then(() => Promise.reject(new Error('handler failed')))),
    ];
    let isIdle = false;
    void calls.idle().then(() => (isIdle = true));

    expect(calls.size).toBe(2);
    first.open();
    await tracked[0];
    expect(calls.size).toBe(1);
    expect(isIdle).toBe(false);

    second.open();
    await expect(tracked[1]).rejects.toThrow('handler failed');
    await calls.idle();
    expect(calls.size).toBe(0);
    expect(isIdle).toBe(true);
  });

  it('counts a synchronous call only while it runs, even when it throws', () => {
    const calls = new InFlight();

    expect(calls.track(() => calls.size)).toBe(1);
    expect(() =>
      calls.track(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(calls.size).toBe(0);
  });
});
