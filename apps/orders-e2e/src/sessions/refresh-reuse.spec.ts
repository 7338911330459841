import { type NatsConnection } from 'nats';

import { decodeClaims } from '../support/jwt';
import { connectBus } from '../support/nats-bus';
import { ACCEPTED, login, REFUSED, refresh, registerUser, settlesWithin, verdicts } from './session-probes';

describe('refresh rotation and reuse detection, seen by orders, inventory and the bus', () => {
  let nc: NatsConnection;

  beforeAll(async () => {
    nc = await connectBus('orders');
  });

  afterAll(async () => {
    await nc.drain();
  });

  it('rotates: a refresh answers a new pair of the same session, accepted everywhere', async () => {
    const user = await registerUser('rotate');
    const first = await login(user);

    const rotated = await refresh(first.refreshToken);

    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ token_type: 'Bearer', expires_in: expect.any(Number) });
    expect(rotated.body.refresh_token).not.toBe(first.refreshToken);
    expect(rotated.body.access_token).not.toBe(first.accessToken);
    const before = decodeClaims(first.accessToken);
    const after = decodeClaims(rotated.body.access_token);
    expect(after.sub).toBe(before.sub);
    expect(after['sid']).toBe(before['sid']);
    expect(after.jti).not.toBe(before.jti);
    expect(await verdicts(nc, rotated.body.access_token)).toEqual(ACCEPTED);
  });

  it('replaying R1 answers 401, then R2 is dead and A2 (same sid) is refused everywhere within 1 s', async () => {
    const user = await registerUser('reuse');
    const first = await login(user);
    const rotated = await refresh(first.refreshToken);
    expect(rotated.status).toBe(200);
    const { access_token: a2, refresh_token: r2 } = rotated.body;
    expect(await verdicts(nc, a2)).toEqual(ACCEPTED);

    const replay = await refresh(first.refreshToken);
    const since = Date.now();

    expect(replay.status).toBe(401);
    expect(replay.body).not.toHaveProperty('access_token');
    await settlesWithin(nc, a2, REFUSED, since);
    expect(await verdicts(nc, first.accessToken)).toEqual(REFUSED);
    expect((await refresh(r2)).status).toBe(401);
    expect(await verdicts(nc, a2)).toEqual(REFUSED);
  });

  it('a replay ends only that session: another login of the same user keeps working', async () => {
    const user = await registerUser('reuse-other');
    const victim = await login(user);
    const other = await login(user);
    expect((await refresh(victim.refreshToken)).status).toBe(200);

    expect((await refresh(victim.refreshToken)).status).toBe(401);
    await settlesWithin(nc, victim.accessToken, REFUSED, Date.now());

    expect(await verdicts(nc, other.accessToken)).toEqual(ACCEPTED);
    expect((await refresh(other.refreshToken)).status).toBe(200);
  });

  it('of two concurrent refreshes with one token exactly one wins, and the loser ends the session', async () => {
    const user = await registerUser('reuse-race');
    const session = await login(user);

    const answers = await Promise.all([refresh(session.refreshToken), refresh(session.refreshToken)]);
    const since = Date.now();

    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 401]);
    const winner = answers.find((answer) => answer.status === 200);
    const a2 = winner?.body.access_token ?? '';
    await settlesWithin(nc, a2, REFUSED, since);
    expect((await refresh(winner?.body.refresh_token ?? '')).status).toBe(401);
  });
});
