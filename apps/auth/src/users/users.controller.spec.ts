import type { FastifyReply, FastifyRequest } from 'fastify';

import { type Database, openDatabase } from '@relay/database';

import { AUTH_MIGRATIONS } from '../database/migrations';
import { LoginAttempts, LoginThrottledException } from '../sessions/login-attempts';
import { LoginFailuresRepository } from '../sessions/login-failures.repository';
import { PasswordHasher } from './password-hasher';
import { UsersController } from './users.controller';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

describe(`${UsersController.name} registration throttle`, () => {
  let db: Database;
  let controller: UsersController;

  beforeAll(async () => {
    db = await openDatabase({ migrations: AUTH_MIGRATIONS });
    const limit = { maxFailures: 3, windowMs: 15 * 60 * 1000 };
    controller = new UsersController(
      new UsersService(new UsersRepository(db), new PasswordHasher()),
      new LoginAttempts(new LoginFailuresRepository(db), {
        accountAndAddress: limit,
        account: limit,
        address: limit,
      }),
    );
  });

  afterAll(async () => {
    await db.close();
  });

  function registerFrom(ip: string, email: string): Promise<unknown> {
    const headers: Record<string, string> = {};
    const reply = {
      header: (name: string, value: string) => (headers[name] = value),
    } as unknown as FastifyReply;
    return controller
      .register({ email, password: 'a fine password' }, { ip } as FastifyRequest, reply)
      .catch((error: unknown) => ({ error, headers }));
  }

  it('takes AUTH_REGISTRATIONS_PER_ADDRESS per 15 minutes from one address, taken or not, then 429 with Retry-After', async () => {
    expect(await registerFrom('192.0.2.10', 'one@example.com')).toMatchObject({ email: 'one@example.com' });
    // a taken email still counts
    expect(await registerFrom('192.0.2.10', 'one@example.com')).toMatchObject({ error: { status: 409 } });
    expect(await registerFrom('192.0.2.10', 'two@example.com')).toMatchObject({ email: 'two@example.com' });

    const throttled = (await registerFrom('192.0.2.10', 'three@example.com')) as {
      error: LoginThrottledException;
      headers: Record<string, string>;
    };

    expect(throttled.error).toBeInstanceOf(LoginThrottledException);
    expect(throttled.error.getStatus()).toBe(429);
    expect(Number(throttled.headers['Retry-After'])).toBeGreaterThan(0);
    expect(await db.query("SELECT 1 FROM users WHERE email = 'three@example.com'")).toHaveLength(0);
    // another address is not throttled by it
    expect(await registerFrom('192.0.2.11', 'three@example.com')).toMatchObject({
      email: 'three@example.com',
    });
  });
});
