import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  appLogFile,
  assertCleanLogs,
  E2E_LOG_DIR_VARIABLE,
  recordBodySecrets,
  recordEnvironmentSecrets,
  scanLogs,
} from './log-scan';

const REFRESH_TOKEN = 'Zm9vYmFyYmF6cXV4LXJlZnJlc2gtdG9rZW4tNDMtY2hhcnM';
const CLIENT_SECRET = 'a-client-secret-of-32-characters!';
const SEED = `SU${'A'.repeat(56)}`;
const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';

function line(fields: Record<string, unknown>): string {
  return JSON.stringify({ level: 'info', time: '2025-01-01T00:00:00.000Z', service: 'auth', ...fields });
}

const ACCESS_LINE = line({
  transport: 'http',
  method: 'POST',
  route: '/auth/login',
  status: 200,
  duration_ms: 12.5,
  verdict: 'none',
  request_id: 'r-1',
  trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
  span_id: '00f067aa0ba902b7',
  msg: 'POST /auth/login 200',
});

/** A fresh log directory in which secrets are recorded as a run records them; restored afterwards. */
function useLogDir(): () => string {
  let dir = '';
  let previous: string | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'relay-log-scan-'));
    previous = process.env[E2E_LOG_DIR_VARIABLE];
    process.env[E2E_LOG_DIR_VARIABLE] = dir;
  });
  afterEach(() => {
    if (previous === undefined) delete process.env[E2E_LOG_DIR_VARIABLE];
    else process.env[E2E_LOG_DIR_VARIABLE] = previous;
    rmSync(dir, { recursive: true, force: true });
  });
  return () => dir;
}

function writeLog(dir: string, stream: 'stdout' | 'stderr', lines: string[]): void {
  writeFileSync(appLogFile(dir, 'nats-restart auth', 4242, stream), `${lines.join('\n')}\n`);
}

describe('the log scan of an e2e run', () => {
  const dir = useLogDir();

  it('passes JSON log lines that hold none of the recorded secrets', () => {
    recordBodySecrets({ access_token: JWT, refresh_token: REFRESH_TOKEN });
    writeLog(dir(), 'stdout', [line({ context: 'NestApplication', msg: 'started' }), ACCESS_LINE]);
    writeLog(dir(), 'stderr', ['(node:1) ExperimentalWarning: something']);

    expect(assertCleanLogs(dir())).toEqual({
      files: 2,
      lines: 3,
      jsonLines: 2,
      accessLines: 1,
      problems: [],
    });
  });

  it('fails on a recorded refresh token, naming the line and never the token', () => {
    recordBodySecrets({ access_token: JWT, refresh_token: REFRESH_TOKEN });
    writeLog(dir(), 'stdout', [ACCESS_LINE, line({ body: { token: REFRESH_TOKEN }, msg: 'oops' })]);

    expect(scanLogs(dir()).problems).toEqual(['nats-restart-auth.4242.stdout.log:2 contains refresh_token']);
    expect(() => assertCleanLogs(dir())).toThrow(
      'nats-restart-auth.4242.stdout.log:2 contains refresh_token',
    );
    expect(() => assertCleanLogs(dir())).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining(REFRESH_TOKEN) }),
    );
  });

  it('fails on an app’s secrets from its environment, on stderr too', () => {
    const seedFile = join(dir(), 'auth.nk');
    writeFileSync(seedFile, `${SEED}\n`);
    recordEnvironmentSecrets({
      AUTH_ADMIN_PASSWORD: 'the-admin-password',
      AUTH_CLIENTS: `orders:${CLIENT_SECRET}:inventory:release`,
      NATS_NKEY_SEED_FILE: seedFile,
    });
    writeLog(dir(), 'stderr', [
      `auth failed to start: bad client ${CLIENT_SECRET}`,
      'password the-admin-password refused',
      `seed ${SEED}`,
    ]);

    expect(scanLogs(dir()).problems).toEqual([
      'nats-restart-auth.4242.stderr.log:1 contains a secret of AUTH_CLIENTS',
      'nats-restart-auth.4242.stderr.log:2 contains AUTH_ADMIN_PASSWORD',
      'nats-restart-auth.4242.stderr.log:3 contains an NKey seed',
    ]);
  });

  it('fails on a token, a password hash or a seed by its shape, recorded or not', () => {
    writeLog(dir(), 'stdout', [
      line({ authorization: `Bearer ${JWT}`, msg: 'a' }),
      line({ hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', msg: 'b' }),
      line({ msg: `seed SO${'B'.repeat(56)}` }),
    ]);

    expect(scanLogs(dir()).problems).toEqual([
      'nats-restart-auth.4242.stdout.log:1 contains a JWT',
      'nats-restart-auth.4242.stdout.log:2 contains an argon2 hash',
      'nats-restart-auth.4242.stdout.log:3 contains an NKey seed',
    ]);
  });

  it('fails on a stdout line that is not a JSON log line, or an access line without its call’s ids', () => {
    const withoutRequestId = JSON.parse(ACCESS_LINE) as Record<string, unknown>;
    delete withoutRequestId['request_id'];
    writeLog(dir(), 'stdout', [
      '[Nest] 1 - LOG [NestApplication] started',
      JSON.stringify({ level: 30, time: 1, service: 'auth', msg: 'numeric level' }),
      JSON.stringify({ level: 'info', time: 'now', msg: 'no service' }),
      JSON.stringify(withoutRequestId),
    ]);

    expect(scanLogs(dir()).problems).toEqual([
      'nats-restart-auth.4242.stdout.log:1 is not a JSON log line',
      'nats-restart-auth.4242.stdout.log:2 has no level name',
      'nats-restart-auth.4242.stdout.log:3 has no service',
      'nats-restart-auth.4242.stdout.log:4 is an access line without request_id',
    ]);
  });

  it('fails on a permissions violation the bus told an app of, on stdout or stderr', () => {
    writeLog(dir(), 'stdout', [
      line({
        level: 'error',
        context: 'ClientNats',
        msg: 'NatsError: type: "error", data: "PERMISSIONS_VIOLATION".',
      }),
    ]);
    writeLog(dir(), 'stderr', [
      'Permissions Violation for Publish to "$JS.API.STREAM.CREATE.KV_relay-revocations"',
    ]);

    expect(scanLogs(dir()).problems).toEqual([
      'nats-restart-auth.4242.stderr.log:1 is a permissions violation on the bus',
      'nats-restart-auth.4242.stdout.log:1 is a permissions violation on the bus',
    ]);
  });

  it('records nothing shorter than a secret can be', () => {
    recordBodySecrets({ password: 'short', client_secret: 'orders' });
    writeLog(dir(), 'stdout', [line({ client: 'orders', msg: 'short' })]);

    expect(scanLogs(dir()).problems).toEqual([]);
  });
});
