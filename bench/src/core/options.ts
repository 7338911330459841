import { resolve } from 'node:path';

/** The bench sections, in the order they run. */
export const SECTIONS = [
  'verifier',
  'http',
  'nats',
  'observability',
  'closed-bus',
  'logins',
  'e2e',
  'embedded',
] as const;
export type Section = (typeof SECTIONS)[number];

export type DatabaseKind = 'pglite' | 'postgres';

/** Parsed command line. */
export interface BenchOptions {
  mode: 'full' | 'quick';
  /** Measured runs per scenario; figures are medians of these. */
  runs: number;
  warmupSeconds: number;
  httpSeconds: number;
  natsSeconds: number;
  /** Length of each alternating guarded/public run (the judged warm ratios), HTTP and NATS. */
  alternatingSeconds: number;
  verifierSeconds: number;
  /** Rounds of the in-process verifier section: rounds are cheap there, and its per-round ratios swing most. */
  verifierRuns: number;
  e2eSeconds: number;
  /**
   * Each stack's warm-up before the measured rounds of the order-path comparison (at the highest of
   * `e2eConcurrency`) and of the embedded section (at 50 clients), long enough for V8 to compile the
   * apps' hot paths: 4 s (`--quick`: 0.6 s).
   */
  stackWarmupSeconds: number;
  /** autocannon connections / in-flight NATS requests for the guard and hop figures. */
  connections: number;
  e2eConcurrency: number[];
  databases: DatabaseKind[];
  /** Distinct tokens for the cold case: twice the verifier's 10 000-entry cache, so cycling them always misses. */
  tokenPool: number;
  /**
   * Tokens each verifier accepts twice before the rounds (a token is cached on its second acceptance),
   * so the warm and cold cases run against a full cache, as a busy service's is.
   */
  residentTokens: number;
  /** Revocation entries preloaded into the bucket, so the revocation check runs against a non-empty list. */
  revokedEntries: number;
  sections: Set<Section>;
  /** Run targets with `--cpu-prof` and summarise where the time goes. */
  profile: boolean;
  skipBuild: boolean;
  outDir: string;
  postgresUrl: string;
  workspaceRoot: string;
}

const USAGE = `usage: nx run bench:run [-- --quick] [--only verifier,http,nats,observability,closed-bus,logins,e2e,embedded] [--profile] [--skip-build]
                              [--databases pglite,postgres] [--out DIR]`;

/** Reads `process.argv`; unknown flags end the process with the usage line. */
export function parseOptions(argv: string[], workspaceRoot: string): BenchOptions {
  const flags = new Map<string, string | true>();
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index];
    if (!arg.startsWith('--')) fail(`unexpected argument ${arg}`);
    const [name, inline] = arg.slice(2).split('=', 2);
    const next = argv[index + 1];
    const takesValue = ['only', 'databases', 'out'].includes(name);
    if (takesValue && inline === undefined && next !== undefined) index += 1;
    flags.set(name, takesValue ? (inline ?? next ?? fail(`--${name} needs a value`)) : true);
  }
  for (const name of flags.keys()) {
    if (!['quick', 'only', 'profile', 'skip-build', 'databases', 'out', 'help'].includes(name)) {
      fail(`unknown flag --${name}`);
    }
  }
  if (flags.has('help')) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const isQuick = flags.has('quick');
  const list = (name: string): string[] | undefined => {
    const value = flags.get(name);
    return typeof value === 'string' ? value.split(',').filter((item) => item !== '') : undefined;
  };
  const sections = list('only') ?? [...SECTIONS];
  for (const section of sections) {
    if (!(SECTIONS as readonly string[]).includes(section)) fail(`unknown section ${section}`);
  }
  const databases = list('databases') ?? (isQuick ? ['pglite'] : ['pglite', 'postgres']);
  for (const kind of databases) {
    if (kind !== 'pglite' && kind !== 'postgres') fail(`unknown database ${kind}`);
  }
  const out = flags.get('out');
  return {
    mode: isQuick ? 'quick' : 'full',
    runs: isQuick ? 1 : 3,
    warmupSeconds: isQuick ? 0.3 : 2,
    httpSeconds: isQuick ? 0.5 : 3,
    natsSeconds: isQuick ? 0.5 : 3,
    alternatingSeconds: isQuick ? 1 : 6,
    verifierSeconds: isQuick ? 0.3 : 1,
    verifierRuns: isQuick ? 1 : 11,
    e2eSeconds: isQuick ? 0.5 : 3,
    stackWarmupSeconds: isQuick ? 0.6 : 4,
    connections: 50,
    e2eConcurrency: isQuick ? [1, 10] : [1, 10, 50],
    databases: databases as DatabaseKind[],
    tokenPool: 20_000,
    residentTokens: isQuick ? 200 : 10_000,
    revokedEntries: isQuick ? 100 : 1000,
    sections: new Set(sections as Section[]),
    profile: flags.has('profile'),
    skipBuild: flags.has('skip-build'),
    outDir: resolve(
      workspaceRoot,
      typeof out === 'string' ? out : isQuick ? 'bench/results/quick' : 'bench/results',
    ),
    postgresUrl: process.env['BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    workspaceRoot,
  };
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n${USAGE}\n`);
  process.exit(2);
}
