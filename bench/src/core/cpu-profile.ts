import { readFile } from 'node:fs/promises';
import { Session } from 'node:inspector';

/** The parts of a V8 `.cpuprofile` the summary reads. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

const IGNORED = new Set(['(idle)', '(program)']);

/**
 * Starts V8's sampling CPU profiler in this process (what `--cpu-prof` does, but for a chosen window
 * instead of the whole process life, so start-up and TypeScript compilation stay out of it).
 */
export async function startProfiler(): Promise<() => Promise<CpuProfile>> {
  const session = new Session();
  session.connect();
  const post = <T>(method: string, params: object = {}): Promise<T> =>
    new Promise((resolve, reject) =>
      session.post(method, params, (error, result) => (error ? reject(error) : resolve(result as T))),
    );
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 100 });
  await post('Profiler.start');
  return async () => {
    try {
      const { profile } = await post<{ profile: CpuProfile }>('Profiler.stop');
      return profile;
    } finally {
      session.disconnect();
    }
  };
}

/** Profiles `work` in this process. */
export async function profileInProcess(work: () => Promise<void>): Promise<CpuProfile> {
  const stop = await startProfiler();
  try {
    await work();
  } catch (error) {
    await stop();
    throw error;
  }
  return stop();
}

/** Reads a `--cpu-prof` file. */
export async function readCpuProfile(path: string): Promise<CpuProfile> {
  return JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
}

/**
 * Where the busy time goes: self time grouped by area (package or workspace folder) and the top
 * functions, as percentages of the non-idle samples.
 */
export function summariseProfile(
  profile: CpuProfile,
  topFunctions = 8,
): { areas: string; functions: string } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const selfTime = new Map<number, number>();
  profile.samples.forEach((id, index) =>
    selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)),
  );
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let busy = 0;
  for (const [id, time] of selfTime) {
    const frame = byId.get(id);
    if (frame === undefined || IGNORED.has(frame.functionName)) continue;
    busy += time;
    const area = areaOf(frame.url, frame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + time);
    const name = `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + time);
  }
  const format = (entries: Map<string, number>, limit: number): string =>
    [...entries]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, time]) => `${name} ${((100 * time) / Math.max(busy, 1)).toFixed(1)}%`)
      .join('; ');
  return { areas: format(areas, 8), functions: format(functions, topFunctions) };
}

function areaOf(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return 'GC';
  if (url === '') return 'native/V8';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const nodeModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nodeModules) return nodeModules[1];
  const workspace = /\/(libs\/[^/]+|apps\/[^/]+|bench)\//.exec(url);
  if (workspace) return workspace[1];
  return shortUrl(url);
}

function shortUrl(url: string): string {
  const withoutScheme = url.replace(/^file:\/\//, '');
  const nodeModules = withoutScheme.lastIndexOf('node_modules/');
  if (nodeModules >= 0) return withoutScheme.slice(nodeModules + 'node_modules/'.length);
  const workspace = /\/((?:libs|apps|bench)\/.*)$/.exec(withoutScheme);
  return workspace ? workspace[1] : withoutScheme;
}
