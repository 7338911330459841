import { type NatsConnection } from 'nats';

import { AUTH_URL } from '../support/e2e-env';
import { api } from '../support/http';
import { connectBus } from '../support/nats-bus';
import {
  ACCEPTED,
  adminPost,
  login,
  loginAdmin,
  loginAttempt,
  REFUSED,
  refresh,
  registerUser,
  type Session,
  settlesWithin,
  verdicts,
} from './session-probes';

interface AdminUser {
  id: string;
  email: string;
  blocked: boolean;
}

describe('POST /auth/admin/users/:id/block, seen by orders, inventory and the bus', () => {
  let nc: NatsConnection;
  let admin: Session;

  beforeAll(async () => {
    nc = await connectBus('orders');
    admin = await loginAdmin();
  });

  afterAll(async () => {
    await nc.drain();
  });

  async function listed(email: string): Promise<AdminUser[]> {
    const answer = await api<AdminUser[]>(
      'GET',
      `${AUTH_URL}/auth/admin/users?email=${encodeURIComponent(email)}`,
      { token: admin.accessToken },
    );
    expect(answer.status).toBe(200);
    return answer.body;
  }

  it('refuses every token of the user within 1 s, kills its refresh tokens and its login; unblock lets only new logins in', async () => {
    const user = await registerUser('blocked');
    const first = await login(user);
    const second = await login(user);
    const rotated = await refresh(second.refreshToken);
    expect(rotated.status).toBe(200);
    const tokens = [first.accessToken, second.accessToken, rotated.body.access_token];
    for (const token of tokens) expect(await verdicts(nc, token)).toEqual(ACCEPTED);

    const blocked = await adminPost(admin, `/auth/admin/users/${user.id}/block`);
    const since = Date.now();

    expect(blocked.status).toBe(204);
    await Promise.all(tokens.map((token) => settlesWithin(nc, token, REFUSED, since)));
    expect((await refresh(first.refreshToken)).status).toBe(401);
    expect((await refresh(rotated.body.refresh_token)).status).toBe(401);
    expect((await loginAttempt(user)).status).toBe(401);
    expect(await listed(user.email)).toEqual([expect.objectContaining({ id: user.id, blocked: true })]);

    const unblocked = await adminPost(admin, `/auth/admin/users/${user.id}/unblock`);

    expect(unblocked.status).toBe(204);
    expect(await listed(user.email)).toEqual([expect.objectContaining({ id: user.id, blocked: false })]);
    const fresh = await login(user);
    expect(await verdicts(nc, fresh.accessToken)).toEqual(ACCEPTED);
    for (const token of tokens) expect(await verdicts(nc, token)).toEqual(REFUSED);
    expect((await refresh(first.refreshToken)).status).toBe(401);
    expect((await refresh(fresh.refreshToken)).status).toBe(200);
  });

  it('a second block after an unblock refuses the tokens issued in between within 1 s', async () => {
    const user = await registerUser('reblocked');
    const path = `/auth/admin/users/${user.id}`;
    expect((await adminPost(admin, `${path}/block`)).status).toBe(204);
    expect((await adminPost(admin, `${path}/unblock`)).status).toBe(204);
    const between = await login(user);
    expect(await verdicts(nc, between.accessToken)).toEqual(ACCEPTED);

    const reblocked = await adminPost(admin, `${path}/block`);
    const since = Date.now();

    expect(reblocked.status).toBe(204);
    await settlesWithin(nc, between.accessToken, REFUSED, since);
    expect((await refresh(between.refreshToken)).status).toBe(401);
  });

  it('blocks only that user: another customer and the admin keep working', async () => {
    const target = await registerUser('blocked-target');
    const bystander = await registerUser('blocked-bystander');
    const targetSession = await login(target);
    const bystanderSession = await login(bystander);

    const blocked = await adminPost(admin, `/auth/admin/users/${target.id}/block`);
    expect(blocked.status).toBe(204);
    await settlesWithin(nc, targetSession.accessToken, REFUSED, Date.now());

    expect(await verdicts(nc, bystanderSession.accessToken)).toEqual(ACCEPTED);
    expect(await verdicts(nc, admin.accessToken)).toEqual(ACCEPTED);
    expect((await refresh(bystanderSession.refreshToken)).status).toBe(200);
  });

  it('answers 403 insufficient_scope to a customer calling block, and blocks nothing', async () => {
    const target = await registerUser('blocked-by-customer');
    const targetSession = await login(target);
    const attacker = await login(await registerUser('block-attacker'));

    const refused = await adminPost(attacker, `/auth/admin/users/${target.id}/block`);

    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
    expect(await verdicts(nc, targetSession.accessToken)).toEqual(ACCEPTED);
  });
});
