import { type NatsConnection } from 'nats';

import { AUTH_URL } from '../support/e2e-env';
import { api } from '../support/http';
import { connectBus } from '../support/nats-bus';
import {
  ACCEPTED,
  login,
  loginAttempt,
  REFUSED,
  refresh,
  registerUser,
  settlesWithin,
  verdicts,
} from './session-probes';

// SECURITY S9: a password change and "log out everywhere" end every earlier session, on every
// service and transport, within 1 s; the contract's seed: JWT's weak spot is a token issued before
// the change staying valid until it expires.
describe('POST /auth/logout-all and POST /auth/password, seen by orders, inventory and the bus', () => {
  let nc: NatsConnection;

  beforeAll(async () => {
    nc = await connectBus('orders');
  });

  afterAll(async () => {
    await nc.drain();
  });

  it('logout-all refuses every earlier access token everywhere within 1 s and kills every refresh token', async () => {
    const user = await registerUser('logout-all');
    const first = await login(user);
    const second = await login(user);
    expect(await verdicts(nc, second.accessToken)).toEqual(ACCEPTED);

    const ended = await api('POST', `${AUTH_URL}/auth/logout-all`, { token: first.accessToken });
    const since = Date.now();

    expect(ended.status).toBe(204);
    await settlesWithin(nc, first.accessToken, REFUSED, since);
    expect(await verdicts(nc, second.accessToken)).toEqual(REFUSED);
    for (const session of [first, second]) expect((await refresh(session.refreshToken)).status).toBe(401);
    // a login after it is a new session, accepted everywhere
    expect(await verdicts(nc, (await login(user)).accessToken)).toEqual(ACCEPTED);
  });

  it('a password change ends every earlier session everywhere within 1 s; the new pair works, the old password not', async () => {
    const user = await registerUser('password');
    const earlier = await login(user);
    const caller = await login(user);
    const newPassword = `${user.password}-changed`;

    const changed = await api<{ access_token: string; refresh_token: string }>(
      'POST',
      `${AUTH_URL}/auth/password`,
      {
        token: caller.accessToken,
        body: { current_password: user.password, new_password: newPassword },
      },
    );
    const since = Date.now();

    expect(changed.status).toBe(200);
    await settlesWithin(nc, earlier.accessToken, REFUSED, since);
    expect(await verdicts(nc, caller.accessToken)).toEqual(REFUSED);
    for (const session of [earlier, caller]) expect((await refresh(session.refreshToken)).status).toBe(401);
    expect(await verdicts(nc, changed.body.access_token)).toEqual(ACCEPTED);
    expect((await refresh(changed.body.refresh_token)).status).toBe(200);
    expect((await loginAttempt(user)).status).toBe(401);
    expect((await loginAttempt({ email: user.email, password: newPassword })).status).toBe(200);
  });
});
