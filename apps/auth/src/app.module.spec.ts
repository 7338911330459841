import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';

import { createServiceApp } from '@relay/bootstrap';
import { DATABASE, type Database } from '@relay/database';
import { sendRawRequest } from '@relay/testing';

const ADMIN = { email: 'Admin@Relay.Test', password: 'admin password 1' };
const CLIENT = {
  id: 'orders',
  secret: 'orders-client-secret-of-32-characters',
  scopes: 'inventory:read inventory:write',
};

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  body: Record<string, unknown>;
}

describe('auth app (AppModule on Fastify, real NATS, PGlite)', () => {
  let app: NestFastifyApplication;
  let baseUrl: string;
  let dataDir: string;

  async function call(
    method: string,
    path: string,
    options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { ...options.headers };
    let payload: string | undefined;
    if (typeof options.body === 'string') payload = options.body;
    else if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
    const response = await fetch(`${baseUrl}${path}`, { method, headers, body: payload });
    const text = await response.text();
    const body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    return { status: response.status, headers: response.headers, text, body };
  }

  async function register(email: string, password = 'customer password'): Promise<Reply> {
    return call('POST', '/auth/register', { body: { email, password } });
  }

  async function login(email: string, password = 'customer password'): Promise<Reply> {
    return call('POST', '/auth/login', { body: { email, password } });
  }

  async function tokensFor(
    email: string,
    password = 'customer password',
  ): Promise<{ access: string; refresh: string }> {
    const reply = await login(email, password);
    expect(reply.status).toBe(200);
    return { access: String(reply.body['access_token']), refresh: String(reply.body['refresh_token']) };
  }

  async function eventuallyStatus(expected: number, probe: () => Promise<Reply>): Promise<void> {
    const deadline = Date.now() + 1000;
    let last = await probe();
    while (last.status !== expected && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      last = await probe();
    }
    expect(last.status).toBe(expected);
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'relay-auth-'));
    Object.assign(process.env, {
      DATA_DIR: dataDir,
      PORT: '0',
      NATS_URL: process.env['RELAY_TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222',
      AUTH_ISSUER: 'http://localhost:3000',
      AUTH_ADMIN_EMAIL: ADMIN.email,
      AUTH_ADMIN_PASSWORD: ADMIN.password,
      AUTH_CLIENTS: `${CLIENT.id}:${CLIENT.secret}:${CLIENT.scopes}`,
      LOG_LEVEL: 'error',
      // the spec's users all register from 127.0.0.1 (the limit itself: users.controller.spec)
      AUTH_REGISTRATIONS_PER_ADDRESS: '1000',
    });
    delete process.env['DATABASE_URL'];
    // imported after the environment is set: ConfigModule.forRoot validates when AppModule is loaded
    const { AppModule } = await import('./app.module');
    const { validateAuthConfig } = await import('./config/auth.config');
    const { createHttpAdapter } = await import('./http/create-http-adapter');
    const config = validateAuthConfig(process.env);
    const { OAUTH_TOKEN_ROUTE } = await import('./tokens/oauth-token.controller');
    // as main.ts composes it: the same body parsers, adapter and NATS listener
    app = await createServiceApp(AppModule, {
      name: 'auth-spec',
      natsUrl: config.NATS_URL,
      logLevel: 'error',
      adapter: createHttpAdapter(config),
      formBodyRoutes: [OAUTH_TOKEN_ROUTE],
    });
    await app.init();
    await app.startAllMicroservices();
    await app.listen(0, '127.0.0.1');
    baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  // CONTRACT: the revocation feed counts on orders and inventory; auth goes on with the entries it knows
  it('answers /health with its database and nats up', async () => {
    const reply = await call('GET', '/health');

    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ status: 'ok', checks: { database: 'up', nats: 'up' } });
  });

  // CONTRACT: JSON in, and no response contains a password or token. curl -d without a content type
  // sends JSON as a form: one field named by the whole text, which a 400 would have echoed
  it.each([
    ['/auth/register', { email: 'form@example.com', password: 'CorrectHorse9' }],
    ['/auth/login', { email: 'form@example.com', password: 'CorrectHorse9' }],
    ['/auth/refresh', { refresh_token: 'rt_CorrectHorseBatteryStaple' }],
  ])('answers a form body on %s with 415, echoing none of it', async (path, fields) => {
    const text = JSON.stringify(fields);

    const reply = await call('POST', path, {
      body: text,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });

    expect(reply.status).toBe(415);
    for (const value of Object.values(fields)) expect(reply.text).not.toContain(value);
    expect(reply.headers.get('x-request-id')).toEqual(expect.any(String));
  });

  // V8's JSON.parse quotes about ten characters either side of a syntax error ("..."password":hunter2"...
  // is not valid JSON"): the 400 must quote none of the body
  it.each([
    ['/auth/register', '{"email":"json@example.com","password":CorrectHorse9}'],
    ['/auth/login', '{"email":"json@example.com","password":"CorrectHorse9"x}'],
    ['/auth/refresh', '{"refresh_token":rt_CorrectHorseBatteryStaple}'],
  ])('answers malformed JSON on %s with 400, quoting none of it', async (path, body) => {
    const reply = await call('POST', path, { body, headers: { 'content-type': 'application/json' } });

    expect(reply.status).toBe(400);
    expect(reply.text).not.toContain('Corr');
    expect(reply.body['message']).toMatch(/^Body is not valid JSON/);
  });

  // a field named by a secret (a token pasted as a key, a query string of one token) is refused
  // without its name: class-validator's "property … should not exist" would send it back
  it.each([
    ['/auth/register', { email: 'key@example.com', password: 'CorrectHorse9', rt_CorrectHorseBattery: 1 }],
    ['/auth/login', { email: 'key@example.com', password: 'CorrectHorse9', rt_CorrectHorseBattery: 1 }],
    ['/auth/refresh', { rt_CorrectHorseBattery: '' }],
  ])('refuses an unknown field on %s with 400, naming none of it', async (path, body) => {
    const reply = await call('POST', path, { body });

    expect(reply.status).toBe(400);
    expect(reply.text).not.toContain('CorrectHorse');
    expect(reply.body['message']).toEqual(expect.arrayContaining(['an unknown property should not exist']));
  });

  // bad input is a 400, never a 500: a body nested thousands deep overflowed the validation pipe,
  // and a NUL character reached PostgreSQL, which refuses it in text
  it.each([
    [
      'nested 5000 deep',
      `{"email":"a@example.com","password":"password 1","x":${'['.repeat(5000)}${']'.repeat(5000)}}`,
    ],
    ['with a NUL in the email', '{"email":"a\\u0000@example.com","password":"password 1"}'],
  ])('answers a login body %s with 400', async (_case, body) => {
    const reply = await call('POST', '/auth/login', {
      body,
      headers: { 'content-type': 'application/json' },
    });

    expect(reply.status).toBe(400);
  });

  describe('POST /auth/register', () => {
    it('creates a customer and refuses the same email in another case', async () => {
      const created = await register('Alice@Example.com');

      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: expect.any(String),
        email: 'alice@example.com',
        roles: ['customer'],
      });
      expect((await register('ALICE@example.COM')).status).toBe(409);
    });

    it.each([
      ['a bad email', { email: 'not-an-email', password: 'long enough' }],
      ['a 7-character password', { email: 'p7@example.com', password: '1234567' }],
      ['a 129-character password', { email: 'p129@example.com', password: 'x'.repeat(129) }],
      ['a roles field', { email: 'mass@example.com', password: 'long enough', roles: ['admin'] }],
      ['a missing password', { email: 'nopass@example.com' }],
      ['a numeric password', { email: 'num@example.com', password: 12345678 }],
    ])('refuses %s with 400', async (_case, body) => {
      const reply = await call('POST', '/auth/register', { body });

      expect(reply.status).toBe(400);
    });

    it('accepts 128 four-byte characters and logs in with them', async () => {
      const password = '🔐'.repeat(128);

      expect((await register('emoji@example.com', password)).status).toBe(201);
      expect((await login('emoji@example.com', password)).status).toBe(200);
    });
  });

  describe('POST /auth/login', () => {
    beforeAll(async () => {
      await register('bob@example.com');
    });

    it('issues an ES256 at+jwt with exactly the contract claims', async () => {
      const reply = await login('BOB@example.com');

      expect(reply.status).toBe(200);
      expect(reply.headers.get('cache-control')).toBe('no-store');
      expect(reply.body).toEqual({
        access_token: expect.any(String),
        refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        token_type: 'Bearer',
        expires_in: 900,
      });
      const token = String(reply.body['access_token']);
      expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid: expect.any(String), typ: 'at+jwt' });
      const claims = decodeJwt(token);
      expect(Object.keys(claims).sort()).toEqual(
        ['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'roles', 'scope', 'sid', 'sub'].sort(),
      );
      expect(claims).toMatchObject({
        iss: 'http://localhost:3000',
        // CONTRACT: ["orders", "inventory"] unless configured otherwise, nothing added
        aud: ['orders', 'inventory'],
        client_id: 'relay-web',
        roles: ['customer'],
        scope: 'orders:read orders:write inventory:read',
      });
      expect(Number(claims.exp) - Number(claims.iat)).toBe(900);
    });

    it('answers GET /auth/me for the token holder', async () => {
      const { access } = await tokensFor('bob@example.com');

      const me = await call('GET', '/auth/me', { token: access });

      expect(me.status).toBe(200);
      expect(me.body).toEqual({ id: expect.any(String), email: 'bob@example.com', roles: ['customer'] });
    });

    it('refuses /auth/me without a token, with a Bearer challenge', async () => {
      const reply = await call('GET', '/auth/me');

      expect(reply.status).toBe(401);
      expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer/);
    });

    it('answers a wrong password and an unknown email with the same 401 body', async () => {
      const wrongPassword = await login('bob@example.com', 'not the password');
      const unknownEmail = await login('nobody@example.com', 'not the password');

      expect(wrongPassword.status).toBe(401);
      expect(unknownEmail.status).toBe(401);
      expect(unknownEmail.text).toBe(wrongPassword.text);
      expect(wrongPassword.text).not.toMatch(/argon|password_hash/i);
    });

    it('throttles repeated failures with 429 and Retry-After, even for the right password', async () => {
      await register('throttled@example.com');
      for (let i = 0; i < 10; i += 1) {
        expect((await login('throttled@example.com', 'wrong password')).status).toBe(401);
      }

      const throttled = await login('throttled@example.com', 'wrong password');
      const rightPassword = await login('throttled@example.com');

      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(rightPassword.status).toBe(429);
    });

    it('ignores X-Forwarded-For without AUTH_TRUSTED_PROXY', async () => {
      await register('spoof@example.com');
      for (let i = 0; i < 10; i += 1) {
        await call('POST', '/auth/login', {
          body: { email: 'spoof@example.com', password: 'wrong password' },
          headers: { 'x-forwarded-for': `203.0.113.${i}` },
        });
      }

      const reply = await call('POST', '/auth/login', {
        body: { email: 'spoof@example.com', password: 'customer password' },
        headers: { 'x-forwarded-for': '198.51.100.7' },
      });

      expect(reply.status).toBe(429);
    });
  });

  describe('refresh and logout', () => {
    beforeAll(async () => {
      await register('carol@example.com');
    });

    it('rotates in the same sid; replaying the spent token kills the whole family', async () => {
      const first = await tokensFor('carol@example.com');

      const rotated = await call('POST', '/auth/refresh', { body: { refresh_token: first.refresh } });
      expect(rotated.status).toBe(200);
      const second = String(rotated.body['refresh_token']);
      expect(decodeJwt(String(rotated.body['access_token'])).sid).toBe(decodeJwt(first.access).sid);

      expect((await call('POST', '/auth/refresh', { body: { refresh_token: first.refresh } })).status).toBe(
        401,
      );
      expect((await call('POST', '/auth/refresh', { body: { refresh_token: second } })).status).toBe(401);
      await eventuallyStatus(401, () => call('GET', '/auth/me', { token: first.access }));
    });

    it('refuses an unknown refresh token and unknown fields', async () => {
      expect((await call('POST', '/auth/refresh', { body: { refresh_token: 'x'.repeat(43) } })).status).toBe(
        401,
      );
      expect((await call('POST', '/auth/refresh', { body: { refresh_token: 'x', extra: 1 } })).status).toBe(
        400,
      );
    });

    it('logout ends the session: its access and refresh tokens are refused', async () => {
      const session = await tokensFor('carol@example.com');
      const other = await tokensFor('carol@example.com');

      const reply = await call('POST', '/auth/logout', {
        token: session.access,
        body: { refresh_token: session.refresh },
      });

      expect(reply.status).toBe(204);
      await eventuallyStatus(401, () => call('GET', '/auth/me', { token: session.access }));
      expect((await call('POST', '/auth/refresh', { body: { refresh_token: session.refresh } })).status).toBe(
        401,
      );
      expect((await call('GET', '/auth/me', { token: other.access })).status).toBe(200);
    });

    it("refuses to log out with another session's refresh token", async () => {
      const mine = await tokensFor('carol@example.com');
      const theirs = await tokensFor('carol@example.com');

      const reply = await call('POST', '/auth/logout', {
        token: mine.access,
        body: { refresh_token: theirs.refresh },
      });

      expect(reply.status).toBe(401);
      expect((await call('GET', '/auth/me', { token: theirs.access })).status).toBe(200);
    });
  });

  describe('logout-all and password change (every earlier session ends)', () => {
    beforeAll(async () => {
      await register('frank@example.com', 'frank password 1');
      await register('grace@example.com', 'grace password 1');
    });

    it('logout-all ends every session of the caller, and only the caller', async () => {
      const first = await tokensFor('frank@example.com', 'frank password 1');
      const second = await tokensFor('frank@example.com', 'frank password 1');
      const stranger = await tokensFor('grace@example.com', 'grace password 1');

      expect((await call('POST', '/auth/logout-all', { token: first.access })).status).toBe(204);

      await eventuallyStatus(401, () => call('GET', '/auth/me', { token: second.access }));
      expect((await call('GET', '/auth/me', { token: first.access })).status).toBe(401);
      for (const { refresh } of [first, second]) {
        expect((await call('POST', '/auth/refresh', { body: { refresh_token: refresh } })).status).toBe(401);
      }
      expect((await call('GET', '/auth/me', { token: stranger.access })).status).toBe(200);
      // a later login is a new session and works
      const later = await tokensFor('frank@example.com', 'frank password 1');
      expect((await call('GET', '/auth/me', { token: later.access })).status).toBe(200);
    });

    it('a password change returns a new pair and ends every earlier session; the old password is dead', async () => {
      const earlier = await tokensFor('grace@example.com', 'grace password 1');
      const caller = await tokensFor('grace@example.com', 'grace password 1');

      const reply = await call('POST', '/auth/password', {
        token: caller.access,
        body: { current_password: 'grace password 1', new_password: 'grace password 2' },
      });

      expect(reply.status).toBe(200);
      expect(reply.headers.get('cache-control')).toBe('no-store');
      const fresh = String(reply.body['access_token']);
      expect(decodeJwt(fresh).sid).not.toBe(decodeJwt(caller.access).sid);
      for (const old of [earlier, caller]) {
        await eventuallyStatus(401, () => call('GET', '/auth/me', { token: old.access }));
        expect((await call('POST', '/auth/refresh', { body: { refresh_token: old.refresh } })).status).toBe(
          401,
        );
      }
      expect((await call('GET', '/auth/me', { token: fresh })).status).toBe(200);
      const refreshed = await call('POST', '/auth/refresh', {
        body: { refresh_token: reply.body['refresh_token'] },
      });
      expect(refreshed.status).toBe(200);
      expect((await login('grace@example.com', 'grace password 1')).status).toBe(401);
      expect((await login('grace@example.com', 'grace password 2')).status).toBe(200);
    });

    it.each([
      ['a wrong current password', { current_password: 'not it at all', new_password: 'whatever 123' }, 401],
      [
        'a new password under 8 characters',
        { current_password: 'frank password 1', new_password: 'short' },
        400,
      ],
      [
        'a new password over 128 characters',
        { current_password: 'frank password 1', new_password: 'x'.repeat(129) },
        400,
      ],
      [
        'an unknown field',
        { current_password: 'frank password 1', new_password: 'frank password 9', roles: ['admin'] },
        400,
      ],
    ])('refuses %s and changes nothing', async (_case, body, status) => {
      const session = await tokensFor('frank@example.com', 'frank password 1');

      const reply = await call('POST', '/auth/password', { token: session.access, body });

      expect(reply.status).toBe(status);
      expect(reply.text).not.toContain('frank password');
      expect((await call('GET', '/auth/me', { token: session.access })).status).toBe(200);
      expect((await login('frank@example.com', 'frank password 1')).status).toBe(200);
    });

    // CONTRACT: unknown JSON fields are refused with 400, on a call that takes no body too
    it('refuses logout-all with a body field (400, nothing ended) and takes it with none or {}', async () => {
      await register('ursula@example.com');
      const session = await tokensFor('ursula@example.com');

      const withField = await call('POST', '/auth/logout-all', {
        token: session.access,
        body: { everywhere: true },
      });
      expect(withField.status).toBe(400);
      expect((await call('GET', '/auth/me', { token: session.access })).status).toBe(200);

      expect((await call('POST', '/auth/logout-all', { token: session.access, body: {} })).status).toBe(204);
    });

    it('needs a bearer token for both', async () => {
      expect((await call('POST', '/auth/logout-all')).status).toBe(401);
      expect(
        (
          await call('POST', '/auth/password', {
            body: { current_password: 'a'.repeat(8), new_password: 'b'.repeat(8) },
          })
        ).status,
      ).toBe(401);
    });
  });

  describe('keys', () => {
    it('publishes public keys only in the JWKS', async () => {
      const reply = await call('GET', '/.well-known/jwks.json');

      expect(reply.status).toBe(200);
      const keys = reply.body['keys'] as Array<Record<string, unknown>>;
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) {
        expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
        expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      }
    });

    it('serves a discovery document naming this issuer', async () => {
      const reply = await call('GET', '/.well-known/openid-configuration');

      expect(reply.body).toMatchObject({
        issuer: 'http://localhost:3000',
        jwks_uri: 'http://localhost:3000/.well-known/jwks.json',
        token_endpoint: 'http://localhost:3000/oauth/token',
        grant_types_supported: expect.arrayContaining(['client_credentials']),
      });
    });

    it('rotates: new tokens use the new kid, old tokens keep working, both keys are published', async () => {
      const admin = await tokensFor(ADMIN.email, ADMIN.password);
      const before = await tokensFor('bob@example.com');

      const rotated = await call('POST', '/auth/admin/keys/rotate', { token: admin.access });

      expect(rotated.status).toBe(201);
      const kid = String(rotated.body['kid']);
      const jwks = await call('GET', '/.well-known/jwks.json');
      const kids = (jwks.body['keys'] as Array<{ kid: string }>).map((key) => key.kid);
      expect(kids).toEqual(expect.arrayContaining([kid, decodeProtectedHeader(before.access).kid]));
      const after = await tokensFor('bob@example.com');
      expect(decodeProtectedHeader(after.access).kid).toBe(kid);
      expect((await call('GET', '/auth/me', { token: before.access })).status).toBe(200);
      expect((await call('GET', '/auth/me', { token: after.access })).status).toBe(200);
    });
  });

  describe('admin', () => {
    it('refuses customers with 403 insufficient_scope', async () => {
      const { access } = await tokensFor('bob@example.com');

      const reply = await call('GET', '/auth/admin/users', { token: access });

      expect(reply.status).toBe(403);
      expect(reply.headers.get('www-authenticate')).toContain('insufficient_scope');
      expect((await call('POST', '/auth/admin/keys/rotate', { token: access })).status).toBe(403);
    });

    it('bootstraps the admin with roles admin and customer', async () => {
      const { access } = await tokensFor(ADMIN.email, ADMIN.password);

      const me = await call('GET', '/auth/me', { token: access });

      expect(me.body).toMatchObject({ email: 'admin@relay.test', roles: ['admin', 'customer'] });
    });

    it('blocks a user everywhere at once, and unblocking lets new logins in but not old tokens', async () => {
      const admin = await tokensFor(ADMIN.email, ADMIN.password);
      await register('dave@example.com');
      const dave = await tokensFor('dave@example.com');
      const found = await call('GET', '/auth/admin/users?email=DAVE@example.com', { token: admin.access });
      expect(found.body).toEqual([
        { id: expect.any(String), email: 'dave@example.com', roles: ['customer'], blocked: false },
      ]);
      const id = String((found.body as unknown as Array<{ id: string }>)[0]?.id);

      expect((await call('POST', `/auth/admin/users/${id}/block`, { token: admin.access })).status).toBe(204);

      await eventuallyStatus(401, () => call('GET', '/auth/me', { token: dave.access }));
      expect((await login('dave@example.com')).status).toBe(401);
      expect((await call('POST', '/auth/refresh', { body: { refresh_token: dave.refresh } })).status).toBe(
        401,
      );
      expect((await call('POST', `/auth/admin/users/${id}/unblock`, { token: admin.access })).status).toBe(
        204,
      );
      const again = await tokensFor('dave@example.com');
      expect((await call('GET', '/auth/me', { token: again.access })).status).toBe(200);
      expect((await call('GET', '/auth/me', { token: dave.access })).status).toBe(401);
    });

    // PostgreSQL compares uuids whatever their case, tokens name the subject in lower case
    it('blocks a user named by its id in upper case, its tokens included', async () => {
      const admin = await tokensFor(ADMIN.email, ADMIN.password);
      await register('erin@example.com');
      const erin = await tokensFor('erin@example.com');
      const found = await call('GET', '/auth/admin/users?email=erin@example.com', { token: admin.access });
      const id = String((found.body as unknown as Array<{ id: string }>)[0]?.id);

      const blocked = await call('POST', `/auth/admin/users/${id.toUpperCase()}/block`, {
        token: admin.access,
      });

      expect(blocked.status).toBe(204);
      await eventuallyStatus(401, () => call('GET', '/auth/me', { token: erin.access }));
    });

    // another auth replica blocks an admin, or their session ends there, while this one has lost the
    // revocation feed: it goes on with what it last knew ('last-known'), and the entry has not come.
    // Written here straight into the database, as that replica did: no revocation reaches this one
    it.each([
      ['blocked', 'UPDATE users SET blocked_at = now() WHERE id = $1'],
      [
        'whose sessions all ended',
        'UPDATE users SET sessions_not_before = floor(extract(epoch FROM now()))::bigint WHERE id = $1',
      ],
      ['logged out', 'UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1'],
    ])(
      'refuses an admin %s through another replica before the revocation reaches this one',
      async (_case, ending) => {
        const email = `admin-${randomUUID()}@example.com`;
        await register(email);
        const db = app.get<Database>(DATABASE);
        await db.query("UPDATE users SET roles = '{admin,customer}' WHERE email = $1", [email]);
        const admin = await tokensFor(email);
        expect((await call('GET', '/auth/admin/users', { token: admin.access })).status).toBe(200);
        // a not-before in the token's own second covers it (iat <= not-before)
        await db.query(ending, [decodeJwt(admin.access).sub]);

        const reply = await call('GET', '/auth/admin/users', { token: admin.access });

        expect(reply.status).toBe(401);
        expect((await call('POST', '/auth/admin/keys/rotate', { token: admin.access })).status).toBe(401);
      },
    );

    it('refuses a query of one token with 400, naming none of it', async () => {
      const admin = await tokensFor(ADMIN.email, ADMIN.password);

      const reply = await call('GET', `/auth/admin/users?${admin.refresh}`, { token: admin.access });

      expect(reply.status).toBe(400);
      expect(reply.text).not.toContain(admin.refresh);
    });

    it('answers 404 for an unknown id and 400 for a non-uuid id', async () => {
      const admin = await tokensFor(ADMIN.email, ADMIN.password);

      const unknown = await call('POST', '/auth/admin/users/00000000-0000-4000-8000-000000000000/block', {
        token: admin.access,
      });
      const malformed = await call('POST', '/auth/admin/users/not-a-uuid/block', { token: admin.access });

      expect(unknown.status).toBe(404);
      expect(malformed.status).toBe(400);
    });
  });

  describe('POST /oauth/token', () => {
    const basic = `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}`;
    const form = { 'content-type': 'application/x-www-form-urlencoded' };

    it('issues a client_credentials token from a form body with HTTP Basic', async () => {
      const reply = await call('POST', '/oauth/token', {
        body: 'grant_type=client_credentials&scope=inventory%3Aread',
        headers: { ...form, authorization: basic },
      });

      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'inventory:read' });
      const claims = decodeJwt(String(reply.body['access_token']));
      expect(claims).toMatchObject({
        sub: 'orders',
        client_id: 'orders',
        roles: [],
        scope: 'inventory:read',
      });
      expect(claims.sid).toBeUndefined();
    });

    it('accepts JSON bodies with client_secret_post', async () => {
      const reply = await call('POST', '/oauth/token', {
        body: { grant_type: 'client_credentials', client_id: CLIENT.id, client_secret: CLIENT.secret },
      });

      expect(reply.status).toBe(200);
    });

    it.each([
      [
        { grant_type: 'client_credentials', client_id: CLIENT.id, client_secret: 'wrong' },
        401,
        'invalid_client',
      ],
      [
        { grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'wrong' },
        401,
        'invalid_client',
      ],
      [
        { grant_type: 'password', client_id: CLIENT.id, client_secret: CLIENT.secret },
        400,
        'unsupported_grant_type',
      ],
      [{ client_id: CLIENT.id, client_secret: CLIENT.secret }, 400, 'invalid_request'],
      [
        {
          grant_type: 'client_credentials',
          client_id: CLIENT.id,
          client_secret: CLIENT.secret,
          scope: 'orders:write',
        },
        400,
        'invalid_scope',
      ],
    ])('refuses %j with %i %s', async (body, status, error) => {
      const reply = await call('POST', '/oauth/token', { body });

      expect(reply.status).toBe(status);
      expect(reply.body['error']).toBe(error);
      // the contract's one challenge on every 401
      expect(reply.headers.get('www-authenticate')).toBe(
        status === 401 ? 'Bearer error="invalid_token"' : null,
      );
    });

    // a secret holding an unencoded '&' splits into a second parameter named by its tail: a repeat of
    // that name (or a JSON key that is not a name) is refused without naming it
    it.each([
      [
        'a repeated parameter',
        'grant_type=client_credentials&scope=a&scope=b',
        'Parameter scope must be one string',
      ],
      [
        'a repeated piece of a secret',
        `grant_type=client_credentials&client_id=${CLIENT.id}&client_secret=ab&c%2Bd/secret-tail&c%2Bd/secret-tail`,
        'Each parameter must be one string',
      ],
    ])('refuses %s with invalid_request, naming only a parameter name', async (_case, form, description) => {
      const reply = await call('POST', '/oauth/token', {
        body: form,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });

      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({ error: 'invalid_request', error_description: description });
      expect(reply.text).not.toContain('secret-tail');
    });

    // CONTRACT: unknown JSON fields are refused with 400; a form's are ignored (RFC 6749 §3.2)
    it('refuses a JSON body naming a parameter it does not know, and ignores one in a form', async () => {
      const credentials = {
        grant_type: 'client_credentials',
        client_id: CLIENT.id,
        client_secret: CLIENT.secret,
      };

      const named = await call('POST', '/oauth/token', { body: { ...credentials, roles: 'admin' } });
      const secretAsKey = await call('POST', '/oauth/token', {
        body: { ...credentials, 'ab&cd/secret-tail': 'x' },
      });
      const inForm = await call('POST', '/oauth/token', {
        body: new URLSearchParams({ ...credentials, roles: 'admin' }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });

      expect(named.status).toBe(400);
      expect(named.body).toEqual({ error: 'invalid_request', error_description: 'Unknown parameter roles' });
      expect(secretAsKey.body).toEqual({ error: 'invalid_request', error_description: 'Unknown parameter' });
      expect(secretAsKey.text).not.toContain('secret-tail');
      expect(inForm.status).toBe(200);
      expect(decodeJwt(String(inForm.body['access_token'])).roles).toEqual([]);
    });

    it('refuses two Authorization headers with invalid_request, though each alone authenticates', async () => {
      const reply = await sendRawRequest(`${baseUrl}/oauth/token`, {
        method: 'POST',
        headers: { ...form, authorization: [basic, basic] },
        body: 'grant_type=client_credentials',
      });

      expect(reply.status).toBe(400);
      expect(JSON.parse(reply.body)).toEqual({
        error: 'invalid_request',
        error_description: 'Send one Authorization header',
      });
    });

    it('answers a failed HTTP Basic client authentication with the Bearer and a Basic challenge', async () => {
      const reply = await call('POST', '/oauth/token', {
        body: { grant_type: 'client_credentials' },
        headers: { authorization: `Basic ${Buffer.from(`${CLIENT.id}:wrong`).toString('base64')}` },
      });

      expect(reply.status).toBe(401);
      expect(reply.body['error']).toBe('invalid_client');
      expect(reply.headers.get('www-authenticate')).toBe(
        'Bearer error="invalid_token", Basic realm="relay", charset="UTF-8"',
      );
    });

    it('throttles failed client authentications per client: 429 with Retry-After, never the secret', async () => {
      const guessed = `guess-${Date.now().toString(36)}`;
      const attempt = (index: number): Promise<Reply> =>
        call('POST', '/oauth/token', {
          body: {
            grant_type: 'client_credentials',
            client_id: guessed,
            client_secret: `wrong-secret-${index}`,
          },
        });

      const statuses: number[] = [];
      for (let index = 0; index < 10; index += 1) statuses.push((await attempt(index)).status);
      const throttled = await attempt(10);

      expect(statuses).toEqual(Array.from({ length: 10 }, () => 401));
      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(throttled.body['error']).toBe('temporarily_unavailable');
      expect(throttled.text).not.toContain('wrong-secret');
      // another client is not throttled by it
      const other = await call('POST', '/oauth/token', {
        body: { grant_type: 'client_credentials', client_id: CLIENT.id, client_secret: CLIENT.secret },
      });
      expect(other.status).toBe(200);
    });

    function exchange(subjectToken: string, extra: Record<string, string> = {}): Promise<Reply> {
      return call('POST', '/oauth/token', {
        headers: { ...form, authorization: basic },
        body: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
          subject_token: subjectToken,
          subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          audience: 'inventory',
          ...extra,
        }).toString(),
      });
    }

    it('exchanges a user token for one narrowed to an audience, with act.sub', async () => {
      const user = await tokensFor('bob@example.com');
      const subject = decodeJwt(user.access);

      const reply = await exchange(user.access);

      expect(reply.status).toBe(200);
      const claims = decodeJwt(String(reply.body['access_token']));
      expect(claims).toMatchObject({
        sub: subject.sub,
        sid: subject.sid,
        aud: ['inventory'],
        act: { sub: 'orders' },
        roles: ['customer'],
      });
      expect(Number(claims.exp)).toBeLessThanOrEqual(Number(subject.exp));
      // seconds from now, whatever the token's iat
      const secondsLeft = Number(claims.exp) - Date.now() / 1000;
      expect(Number(reply.body['expires_in'])).toBeGreaterThanOrEqual(Math.floor(secondsLeft) - 1);
      expect(Number(reply.body['expires_in'])).toBeLessThanOrEqual(Math.ceil(secondsLeft));
    });

    // auth has no audience of its own (user tokens carry the resource servers'): what else names one
    // of those, a service's token or one exchanged for a callee, is no key to a user's account here
    it('takes on its own routes only user tokens: not a service token, not an exchanged one', async () => {
      const user = await tokensFor('bob@example.com');
      const service = await call('POST', '/oauth/token', {
        headers: { ...form, authorization: basic },
        body: 'grant_type=client_credentials',
      });
      const exchanged = await exchange(user.access, { audience: 'orders' });
      const serviceToken = String(service.body['access_token']);
      const exchangedToken = String(exchanged.body['access_token']);
      expect(decodeJwt(serviceToken).aud).toEqual(['orders', 'inventory']);
      expect(decodeJwt(exchangedToken).aud).toEqual(['orders']);

      for (const token of [serviceToken, exchangedToken]) {
        expect((await call('GET', '/auth/me', { token })).status).toBe(401);
        expect((await call('POST', '/auth/logout-all', { token, body: {} })).status).toBe(401);
        expect(
          (
            await call('POST', '/auth/password', {
              token,
              body: { current_password: 'customer password', new_password: 'another password' },
            })
          ).status,
        ).toBe(401);
        const reExchanged = await exchange(token);
        expect([reExchanged.status, reExchanged.body['error']]).toEqual([400, 'invalid_grant']);
      }
      // the user's own token still opens all of it
      expect((await call('GET', '/auth/me', { token: user.access })).status).toBe(200);
    });

    // CONTRACT lists subject_token, audience and client credentials; RFC 8693's subject_token_type is
    // taken as an access token when left out, and refused when it names another type
    it('exchanges a request without subject_token_type, and refuses one naming another type', async () => {
      const user = await tokensFor('bob@example.com');
      const request = (extra: Record<string, string>): Promise<Reply> =>
        call('POST', '/oauth/token', {
          headers: { ...form, authorization: basic },
          body: new URLSearchParams({
            grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
            subject_token: user.access,
            audience: 'inventory',
            ...extra,
          }).toString(),
        });

      const untyped = await request({});
      const otherType = await request({ subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' });

      expect(untyped.status).toBe(200);
      expect(decodeJwt(String(untyped.body['access_token']))).toMatchObject({ aud: ['inventory'] });
      expect(otherType.status).toBe(400);
      expect(otherType.body['error']).toBe('invalid_request');
    });

    // SECURITY S8: it inherits the subject token's revocation. A subject not-before (block, password
    // change, logout-all) refuses tokens with iat <= its time: dated like the subject token, the
    // exchanged one falls with it, even if this instance signed it before hearing of that revocation
    it('dates an exchanged token like its subject token', async () => {
      const user = await tokensFor('bob@example.com');
      // a second later, so a token dated "now" would differ
      await new Promise((resolve) => setTimeout(resolve, 1100));

      const reply = await exchange(user.access);

      expect(reply.status).toBe(200);
      expect(decodeJwt(String(reply.body['access_token'])).iat).toBe(decodeJwt(user.access).iat);
    });

    it('drops the roles of a token exchanged for a requested scope: it authorises that scope, nothing more', async () => {
      const user = await tokensFor('carol@example.com');

      const reply = await exchange(user.access, { scope: 'inventory:read' });

      expect(reply.status).toBe(200);
      expect(decodeJwt(String(reply.body['access_token']))).toMatchObject({
        aud: ['inventory'],
        roles: [],
        scope: 'inventory:read',
      });
    });

    // a token from a replica with a longer ACCESS_TOKEN_TTL: valid, but older than this one's TTL, so
    // no token dated like it could be signed here
    it('refuses with invalid_grant to exchange a token older than its own ACCESS_TOKEN_TTL', async () => {
      await register('oscar@example.com');
      const user = await tokensFor('oscar@example.com');
      const { SigningKeysService } = await import('./keys/signing-keys.service');
      const { TokenIssuer } = await import('./tokens/token-issuer.service');
      const { kid, privateKey } = await app.get(SigningKeysService).signingKey();
      const now = Math.floor(Date.now() / 1000);
      const iat = now - app.get(TokenIssuer).defaultTtlSeconds - 60;
      const older = await new SignJWT({ ...decodeJwt(user.access), iat, exp: now + 300, jti: randomUUID() })
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
        .sign(privateKey);

      const reply = await exchange(older);

      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({
        error: 'invalid_grant',
        error_description: 'subject_token is too old to be exchanged',
      });
    });

    it('refuses to exchange an invalid subject token with invalid_grant', async () => {
      const reply = await call('POST', '/oauth/token', {
        headers: { authorization: basic },
        body: {
          grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
          subject_token: 'a.b.c',
          subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          audience: 'inventory',
        },
      });

      expect(reply.status).toBe(400);
      expect(reply.body['error']).toBe('invalid_grant');
    });
  });
});
