import { InvalidEnvironmentError } from '@relay/config';

import { parseServiceClients } from '../tokens/service-clients';
import { userTokenAudiences, validateAuthConfig } from './auth.config';

describe('validateAuthConfig', () => {
  it('applies the contract defaults', () => {
    const config = validateAuthConfig({});

    expect(config).toMatchObject({
      PORT: 3000,
      ACCESS_TOKEN_TTL: 900,
      REFRESH_TOKEN_TTL: 1_209_600,
      AUTH_REGISTRATIONS_PER_ADDRESS: 200,
    });
    expect(config.AUTH_ADMIN_EMAIL).toBeUndefined();
    expect(config.AUTH_CLIENTS).toBeUndefined();
  });

  it.each([
    [{ ACCESS_TOKEN_TTL: '86401' }, 'ACCESS_TOKEN_TTL'],
    [{ ACCESS_TOKEN_TTL: 'soon' }, 'ACCESS_TOKEN_TTL'],
    // past the year every login failed: its expiry left the range of the database's dates
    [{ REFRESH_TOKEN_TTL: '10000000000000' }, 'REFRESH_TOKEN_TTL'],
    [{ REFRESH_TOKEN_TTL: String(365 * 86_400 + 1) }, 'REFRESH_TOKEN_TTL'],
    [{ REFRESH_TOKEN_TTL: '0' }, 'REFRESH_TOKEN_TTL'],
    [{ AUTH_ADMIN_EMAIL: 'admin@relay.test' }, 'AUTH_ADMIN_PASSWORD'],
    [{ AUTH_ADMIN_PASSWORD: 'long enough' }, 'AUTH_ADMIN_EMAIL'],
    [{ AUTH_ADMIN_EMAIL: 'admin@relay.test', AUTH_ADMIN_PASSWORD: 'short' }, 'AUTH_ADMIN_PASSWORD'],
    [{ AUTH_CLIENTS: 'orders' }, 'AUTH_CLIENTS'],
    [{ AUTH_CLIENTS: `a:${'s'.repeat(32)},a:${'t'.repeat(32)}` }, 'AUTH_CLIENTS'],
    [{ AUTH_CLIENTS: `orders:${'s'.repeat(31)}` }, 'secrets of at least 32 characters'],
    [{ AUTH_KEY_ENCRYPTION_KEY: 'not-a-key' }, 'AUTH_KEY_ENCRYPTION_KEY'],
  ])('refuses %j naming %s', (env, variable) => {
    expect(() => validateAuthConfig(env)).toThrow(InvalidEnvironmentError);
    expect(() => validateAuthConfig(env)).toThrow(variable);
  });

  it('accepts a refresh-token lifetime of up to a year', () => {
    expect(validateAuthConfig({ REFRESH_TOKEN_TTL: String(365 * 86_400) }).REFRESH_TOKEN_TTL).toBe(
      31_536_000,
    );
  });

  it('never echoes a secret value in the error', () => {
    expect(() => validateAuthConfig({ AUTH_CLIENTS: 'bad id:topsecret' })).toThrow(/^(?!.*topsecret)/);
  });

  it('accepts an admin pair and a 64-hex encryption key', () => {
    const config = validateAuthConfig({
      AUTH_ADMIN_EMAIL: 'admin@relay.test',
      AUTH_ADMIN_PASSWORD: 'correct horse',
      AUTH_KEY_ENCRYPTION_KEY: 'ab'.repeat(32),
    });

    expect(config.AUTH_ADMIN_EMAIL).toBe('admin@relay.test');
  });
});

describe(parseServiceClients.name, () => {
  it('parses id:secret:scopes entries whose scopes contain colons', () => {
    expect(
      parseServiceClients(
        'orders:s3cret-xxxxxxxxxxxxxxxxxxxxxxxxxx:inventory:read orders:read, batch:other-yyyyyyyyyyyyyyyyyyyyyyyyyy',
      ),
    ).toEqual([
      {
        id: 'orders',
        secret: 's3cret-xxxxxxxxxxxxxxxxxxxxxxxxxx',
        scopes: ['inventory:read', 'orders:read'],
      },
      { id: 'batch', secret: 'other-yyyyyyyyyyyyyyyyyyyyyyyyyy', scopes: [] },
    ]);
  });

  // a client named as the user tokens' client_id would pass for a user on auth's own routes
  it('refuses a client named relay-web, without echoing its secret', () => {
    const secret = 's'.repeat(32);
    expect(() => parseServiceClients(`orders:${'o'.repeat(32)},relay-web:${secret}`)).toThrow(
      'AUTH_CLIENTS entry 2 may not be named relay-web',
    );
    expect(() => parseServiceClients(`relay-web:${secret}`)).not.toThrow(new RegExp(secret));
  });

  it('is empty when unset', () => {
    expect(parseServiceClients(undefined)).toEqual([]);
  });
});

describe(userTokenAudiences.name, () => {
  // CONTRACT: user tokens carry aud ["orders", "inventory"] unless configured otherwise
  it('is the configured audiences, each once, split on spaces or commas', () => {
    expect(userTokenAudiences({ ACCESS_TOKEN_AUDIENCE: 'orders inventory' })).toEqual([
      'orders',
      'inventory',
    ]);
    expect(userTokenAudiences({ ACCESS_TOKEN_AUDIENCE: 'orders, inventory,orders' })).toEqual([
      'orders',
      'inventory',
    ]);
  });
});
