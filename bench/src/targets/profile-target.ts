import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import type { BenchChild } from '../core/child';
import type { BenchContext } from '../core/context';
import { readCpuProfile, summariseProfile } from '../core/cpu-profile';

/** Where profiles go (git-ignored). */
export function profileDir(workspaceRoot: string): string {
  const dir = join(workspaceRoot, 'bench', 'results', 'tmp', 'profiles');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Runs `load` against a forked target while V8's CPU profiler samples it (the `--cpu-prof` profiler,
 * limited to the load window), writes `<label>.cpuprofile` and adds where the time went to the notes.
 */
export async function profileTarget(
  context: BenchContext,
  target: BenchChild,
  label: string,
  load: () => Promise<unknown>,
): Promise<void> {
  const file = join(
    profileDir(context.options.workspaceRoot),
    `${label.replace(/[^a-z0-9]+/gi, '-')}.cpuprofile`,
  );
  await target.command({ type: 'profile-start' }, 'profiling');
  try {
    await load();
  } finally {
    await target.command({ type: 'profile-stop', path: file }, 'profiled');
  }
  const summary = summariseProfile(await readCpuProfile(file));
  context.sink.note(
    `${label} (target self time, ${file.replace(`${context.options.workspaceRoot}/`, '')}): by area: ${summary.areas}`,
  );
  context.sink.note(`${label}: top functions: ${summary.functions}`);
}
