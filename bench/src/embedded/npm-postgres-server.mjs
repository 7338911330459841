// Forked by bench/src/embedded/embedded.bench.ts: the demo's PostgreSQL server (tools/scripts/embedded-postgres.mjs) in a process of its own, its URLs sent over IPC only.
// the launcher is a plain script of tools/scripts, not a library: no @relay/* alias names it
// eslint-disable-next-line @nx/enforce-module-boundaries
import { startEmbeddedPostgres } from '../../../tools/scripts/embedded-postgres.mjs';

const { BENCH_EMBEDDED_DATA_DIR: dataDir = '', BENCH_EMBEDDED_DATABASES: databases = '' } = process.env;

try {
  const server = await startEmbeddedPostgres({ dataDir, databases: databases.split(',') });
  server.child.once('exit', () => process.exit(1));
  process.on('message', (message) => {
    if (message?.type !== 'stop') return;
    server.child.removeAllListeners('exit');
    void server.stop().then(() => process.exit(0));
  });
  process.send({ type: 'ready', data: { urls: server.urls, pid: server.pid } });
} catch (error) {
  process.send({ type: 'error', error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}
