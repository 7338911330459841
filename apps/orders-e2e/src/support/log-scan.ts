import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Set by global setup to the directory where every app process of the run writes its output
 * (`<label>.<pid>.stdout.log` / `.stderr.log`) and where the secrets the run used are recorded
 * (`secrets.jsonl`): global teardown scans the one for the other.
 */
export const E2E_LOG_DIR_VARIABLE = 'RELAY_E2E_LOG_DIR';

const SECRETS_FILE = 'secrets.jsonl';
const LOG_SUFFIX = '.log';
const STDOUT_SUFFIX = `.stdout${LOG_SUFFIX}`;

/** Shorter values (a client id, a role) are not secrets, and would be found by chance. */
const MIN_SECRET_LENGTH = 8;

/** A value the run used that must never be logged, and what it is (the report names that, never the value). */
export interface RecordedSecret {
  kind: string;
  value: string;
}

/**
 * Secrets found by their shape, whether or not the run recorded them: a JWS (an access token or an
 * ID token), an argon2 password hash, an NKey seed.
 */
const SECRET_SHAPES: readonly { kind: string; pattern: RegExp }[] = [
  { kind: 'a JWT', pattern: /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{16,}/ },
  { kind: 'an argon2 hash', pattern: /\$argon2(id|i|d)\$/ },
  { kind: 'an NKey seed', pattern: /\bS[UAO][A-Z2-7]{56}\b/ },
];

/** The fields of request and answer bodies that carry secrets (passwords, tokens, client secrets). */
const SECRET_FIELDS = [
  'password',
  'current_password',
  'new_password',
  'access_token',
  'refresh_token',
  'client_secret',
  'subject_token',
  'actor_token',
] as const;

/** The log directory of the running e2e suite, if any (a spec file run outside it has none). */
export function e2eLogDir(): string | undefined {
  return process.env[E2E_LOG_DIR_VARIABLE];
}

/** Records values the run used that no log line may contain (nothing outside an e2e run). */
export function recordSecrets(kind: string, ...values: (string | undefined)[]): void {
  const dir = e2eLogDir();
  if (dir === undefined) return;
  const lines = values
    .filter((value): value is string => value !== undefined && value.length >= MIN_SECRET_LENGTH)
    .map((value) => `${JSON.stringify({ kind, value } satisfies RecordedSecret)}\n`);
  if (lines.length > 0) appendFileSync(join(dir, SECRETS_FILE), lines.join(''));
}

/** Records the secret fields of a request or answer body (`password`, `access_token`, `refresh_token`…). */
export function recordBodySecrets(body: unknown): void {
  if (typeof body !== 'object' || body === null) return;
  const record = body as Record<string, unknown>;
  for (const field of SECRET_FIELDS) {
    const value = record[field];
    if (typeof value === 'string') recordSecrets(field, value);
  }
}

/**
 * Records the secrets in an app's environment: its passwords, client secrets, key-encryption key and
 * the NKey seed its seed file holds.
 */
export function recordEnvironmentSecrets(env: NodeJS.ProcessEnv): void {
  recordSecrets('AUTH_ADMIN_PASSWORD', env['AUTH_ADMIN_PASSWORD']);
  recordSecrets('AUTH_CLIENT_SECRET', env['AUTH_CLIENT_SECRET']);
  recordSecrets('AUTH_KEY_ENCRYPTION_KEY', env['AUTH_KEY_ENCRYPTION_KEY']);
  // id:secret:scope…, comma-separated
  const clients = (env['AUTH_CLIENTS'] ?? '').split(',').map((client) => client.split(':')[1]);
  recordSecrets('a secret of AUTH_CLIENTS', ...clients);
  recordSeedFiles([env['NATS_NKEY_SEED_FILE']]);
}

/** Records the NKey seeds the files hold. */
export function recordSeedFiles(files: readonly (string | undefined)[]): void {
  for (const file of files) {
    if (file !== undefined && existsSync(file)) {
      recordSecrets('an NKey seed', readFileSync(file, 'utf8').trim());
    }
  }
}

/** The file an app process's stream is written to. */
export function appLogFile(dir: string, label: string, pid: number, stream: 'stdout' | 'stderr'): string {
  return join(dir, `${label.replace(/[^\w.-]+/g, '-')}.${pid}.${stream}${LOG_SUFFIX}`);
}

/** What {@link scanLogs} found. */
export interface LogScan {
  files: number;
  lines: number;
  /** Lines of stdout, each a JSON log line. */
  jsonLines: number;
  accessLines: number;
  /**
   * One sentence each: `<file>:<line> contains <kind>`, `… is not a JSON log line`, `… is a
   * permissions violation on the bus`. Never a secret.
   */
  problems: string[];
}

// nats.js's status (Nest's ClientNats logs it as an error) or its error's message
const PERMISSIONS_VIOLATION = /PERMISSIONS_VIOLATION|Permissions Violation/;

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
const ACCESS_FIELDS = ['request_id', 'trace_id', 'span_id', 'status', 'duration_ms', 'verdict'];

/**
 * Reads every app log of `dir`: no line of stdout or stderr may contain a recorded secret (or
 * `extraSecrets`) or a secret's shape; every stdout line must be a JSON log line with `level`, `time`
 * and `service`, and an access line (it has `transport`) its call's ids, status, duration and verdict.
 * No app may have been refused by the closed bus: its permissions must fit what the apps do.
 */
export function scanLogs(dir: string, extraSecrets: readonly RecordedSecret[] = []): LogScan {
  const secrets = uniqueSecrets([...readSecrets(dir), ...extraSecrets]);
  const scan: LogScan = { files: 0, lines: 0, jsonLines: 0, accessLines: 0, problems: [] };
  const files = readdirSync(dir).filter((name) => name.endsWith(LOG_SUFFIX));
  for (const file of files.sort()) {
    scan.files += 1;
    const lines = readFileSync(join(dir, file), 'utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    lines.forEach((line, index) => {
      scan.lines += 1;
      const where = `${file}:${index + 1}`;
      for (const kind of secretsIn(line, secrets)) scan.problems.push(`${where} contains ${kind}`);
      if (PERMISSIONS_VIOLATION.test(line)) {
        scan.problems.push(`${where} is a permissions violation on the bus`);
      }
      if (!file.endsWith(STDOUT_SUFFIX)) return;
      const problem = logLineProblem(line);
      if (problem !== undefined) {
        scan.problems.push(`${where} ${problem}`);
        return;
      }
      scan.jsonLines += 1;
      if (line.includes('"transport":')) scan.accessLines += 1;
    });
  }
  return scan;
}

/** Throws (one line per problem, at most 50) when {@link scanLogs} finds any. */
export function assertCleanLogs(dir: string, extraSecrets: readonly RecordedSecret[] = []): LogScan {
  const scan = scanLogs(dir, extraSecrets);
  if (scan.problems.length > 0) {
    const shown = scan.problems.slice(0, 50);
    const more = scan.problems.length - shown.length;
    throw new Error(
      `the apps' logs (${dir}) failed the scan:\n  ${shown.join('\n  ')}${more > 0 ? `\n  … and ${more} more` : ''}`,
    );
  }
  return scan;
}

function readSecrets(dir: string): RecordedSecret[] {
  const file = join(dir, SECRETS_FILE);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as RecordedSecret);
}

function uniqueSecrets(secrets: readonly RecordedSecret[]): RecordedSecret[] {
  const byValue = new Map<string, RecordedSecret>();
  for (const secret of secrets) {
    if (secret.value.length >= MIN_SECRET_LENGTH && !byValue.has(secret.value)) {
      byValue.set(secret.value, secret);
    }
  }
  return [...byValue.values()];
}

function secretsIn(line: string, secrets: readonly RecordedSecret[]): string[] {
  const kinds = new Set<string>();
  for (const secret of secrets) if (line.includes(secret.value)) kinds.add(secret.kind);
  for (const shape of SECRET_SHAPES) if (shape.pattern.test(line)) kinds.add(shape.kind);
  return [...kinds];
}

function logLineProblem(line: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return 'is not a JSON log line';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'is not a JSON object';
  const entry = parsed as Record<string, unknown>;
  if (typeof entry['level'] !== 'string' || !LEVELS.has(entry['level'])) return 'has no level name';
  if (typeof entry['time'] !== 'string') return 'has no time';
  if (typeof entry['service'] !== 'string') return 'has no service';
  if ('transport' in entry) {
    const missing = ACCESS_FIELDS.filter((field) => entry[field] === undefined);
    if (missing.length > 0) return `is an access line without ${missing.join(', ')}`;
  }
  return undefined;
}
