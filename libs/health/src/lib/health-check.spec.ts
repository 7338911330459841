import { runHealthChecks } from './health-check';

const up = { name: 'database', check: () => Promise.resolve() };
const down = { name: 'nats', check: async () => Promise.reject(new Error('connection refused')) };
const hanging = { name: 'slow', check: () => new Promise<void>(() => undefined) };

describe(runHealthChecks.name, () => {
  it('reports ok when every check passes', async () => {
    await expect(runHealthChecks([up])).resolves.toEqual({ status: 'ok', checks: { database: 'up' } });
  });

  it('reports unavailable and names the failing dependency', async () => {
    await expect(runHealthChecks([up, down])).resolves.toEqual({
      status: 'unavailable',
      checks: { database: 'up', nats: 'down' },
    });
  });

  it('counts a check that does not answer within the timeout as down', async () => {
    await expect(runHealthChecks([hanging], 20)).resolves.toEqual({
      status: 'unavailable',
      checks: { slow: 'down' },
    });
  });
});
