export interface SilenceWatch {
  /** The other side was heard from: the silence starts again from now. */
  heard(): void;
  stop(): void;
}

/**
 * Calls `onSilent` once `limitMs` pass without `heard()`, counted from now, looking every `intervalMs`
 * (and calling `onTick` each time it is still in time). A late tick means this process stood still (a
 * long synchronous task such as an embedded database query, or GC): nothing could be read meanwhile,
 * so the silence it counts stops at the limit, and the probe `onTick` sends then has one interval to
 * be answered, no longer: the calls that queued up during the stall are served meanwhile, so a
 * partition that began before it must still be caught within an interval of its end. Forgiven once per
 * `heard()`: under load every tick is late, and a partition must still count. Silence is judged once
 * the turn of the tick has read its sockets (timers run before reads): an answer that arrived while the
 * process was busy is waiting there, and is not silence.
 */
export function watchSilence(
  limitMs: number,
  intervalMs: number,
  onSilent: () => void,
  onTick: () => void = () => undefined,
): SilenceWatch {
  let lastHeardAt = Date.now();
  let lastTickAt = lastHeardAt;
  let hasForgivenStall = false;
  let isStopped = false;
  const isSilentAt = (at: number): boolean => at - lastHeardAt > limitMs;
  const stop = (): void => {
    isStopped = true;
    clearInterval(timer);
  };
  const timer = setInterval(() => {
    // one reading of the clock for the whole tick: a forgiven stall leaves the silence at the limit
    // exactly, and a millisecond that passes before it is judged would take it over, with no probe sent
    const now = Date.now();
    const stalledMs = now - lastTickAt - intervalMs;
    if (stalledMs > intervalMs && !hasForgivenStall) {
      lastHeardAt = Math.max(lastHeardAt, now - limitMs);
      hasForgivenStall = true;
    }
    lastTickAt = now;
    if (!isSilentAt(now)) return onTick();
    setImmediate(() => {
      if (isStopped || !isSilentAt(Date.now())) return;
      stop();
      onSilent();
    });
  }, intervalMs);
  timer.unref();
  return {
    heard: () => {
      lastHeardAt = Date.now();
      hasForgivenStall = false;
    },
    stop,
  };
}
