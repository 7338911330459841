import { startApp, stopProcess, waitHealthy } from './app-processes';

describe('waitHealthy', () => {
  it('fails with the last lines of an app that exits before it is healthy, so a CI excerpt names the cause', async () => {
    const app = startApp('orders', { PATH: process.env['PATH'], PORT: '70000' }, 'exits-at-start');
    try {
      await expect(waitHealthy(app, 'http://127.0.0.1:1/health', 30_000)).rejects.toThrow(
        /^orders exited \(code 1\) before http:\/\/127\.0\.0\.1:1\/health answered 200; its last lines:\n.*PORT must be an integer between 1 and 65535/s,
      );
    } finally {
      await stopProcess(app.child);
    }
  });
});
