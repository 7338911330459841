import { Test } from '@nestjs/testing';

import { type AuthModuleOptions, resolveAuthOptions } from './auth-module-options';
import { AuthModule } from './auth.module';

const VALID: AuthModuleOptions = {
  issuer: 'https://issuer.relay.test/',
  audience: 'orders',
  natsUrl: 'nats://127.0.0.1:4222',
  serviceName: 'orders',
};

describe('AuthModule options', () => {
  it('applies the defaults to valid options', () => {
    expect(resolveAuthOptions(VALID)).toEqual(
      expect.objectContaining({
        jwksUri: 'https://issuer.relay.test/.well-known/jwks.json',
        tokenEndpoint: 'https://issuer.relay.test/oauth/token',
        algorithms: ['ES256'],
        clockToleranceSeconds: 30,
        maxTokenAgeSeconds: 86_400,
        jwksMaxAgeMs: 600_000,
      }),
    );
  });

  it('takes every asymmetric algorithm jose verifies on Node', () => {
    const algorithms = ['RS256', 'PS512', 'ES384', 'ES256K', 'EdDSA', 'Ed25519'];

    expect(resolveAuthOptions({ ...VALID, algorithms }).algorithms).toEqual(algorithms);
  });

  // each would switch a check off (an empty audience or issuer, a NaN tolerance or age: jose skips
  // what is falsy or NaN) or make every token fail long after start-up
  it.each<[string, Partial<Record<keyof AuthModuleOptions, unknown>>, RegExp]>([
    ['a missing audience', { audience: undefined }, /audience is required/],
    ['an empty issuer', { issuer: '' }, /issuer is required/],
    ['a blank service name', { serviceName: '  ' }, /serviceName is required/],
    ['a missing NATS URL', { natsUrl: undefined }, /natsUrl is required/],
    [
      'a NaN clock tolerance',
      { clockToleranceSeconds: Number.NaN },
      /clockToleranceSeconds must be an integer/,
    ],
    [
      'a clock tolerance as text',
      { clockToleranceSeconds: '30' },
      /clockToleranceSeconds must be an integer/,
    ],
    [
      'a tolerance of an hour',
      { clockToleranceSeconds: 3600 },
      /clockToleranceSeconds must be an integer from 0 to 300/,
    ],
    ['a NaN token age', { maxTokenAgeSeconds: Number.NaN }, /maxTokenAgeSeconds must be an integer/],
    ['a token age past the revocation TTL', { maxTokenAgeSeconds: 86_401 }, /maxTokenAgeSeconds/],
    ['a negative cooldown', { jwksCooldownMs: -1 }, /jwksCooldownMs/],
    ['a zero JWKS age', { jwksMaxAgeMs: 0 }, /jwksMaxAgeMs/],
    ['a fractional cache size', { verifiedTokenCacheSize: 1.5 }, /verifiedTokenCacheSize/],
    ['a zero RPC timeout', { rpcTimeoutMs: 0 }, /rpcTimeoutMs/],
    ['algorithms as a string', { algorithms: 'ES256' }, /algorithms must be a non-empty array/],
    ['no algorithms', { algorithms: [] }, /algorithms must be a non-empty array/],
    ['a misspelt algorithm', { algorithms: ['es256'] }, /algorithms: 'es256' is not one of/],
    ['a JWKS URI that is not a URL', { jwksUri: 'jwks.json' }, /jwksUri must be an http\(s\) URL/],
    [
      'a token endpoint on another scheme',
      { tokenEndpoint: 'file:///etc/passwd', clientId: 'orders' },
      /tokenEndpoint must be/,
    ],
    ['an unknown outage policy', { revocationOutage: 'accept' }, /revocationOutage must be one of/],
    ['an unknown propagation mode', { propagation: 'forwarded' }, /propagation must be one of/],
  ])('refuses %s, naming the option', (_case, change, message) => {
    expect(() => resolveAuthOptions({ ...VALID, ...change } as AuthModuleOptions)).toThrow(message);
  });

  it('drops none and HS* from algorithms as before (never accepted), and refuses a list of nothing else', async () => {
    expect(resolveAuthOptions({ ...VALID, algorithms: ['HS256', 'ES256'] }).algorithms).toEqual([
      'HS256',
      'ES256',
    ]);
    const compiling = Test.createTestingModule({
      imports: [AuthModule.forRoot({ ...VALID, algorithms: ['HS256', 'none'] })],
    }).compile();

    await expect(compiling).rejects.toThrow(/algorithms must name an asymmetric algorithm/);
  });

  it('fails the module at start-up, before any token is checked', async () => {
    const compiling = Test.createTestingModule({
      imports: [AuthModule.forRoot({ ...VALID, audience: undefined } as unknown as AuthModuleOptions)],
    }).compile();

    await expect(compiling).rejects.toThrow('AuthModule: audience is required (a non-empty string)');
  });

  it('names no secret in its errors', () => {
    const secret = 'client-secret-that-must-not-leak';
    const options: AuthModuleOptions = {
      ...VALID,
      clientSecret: secret,
      propagation: 'exchange',
      rpcTimeoutMs: -1,
    };

    expect(() => resolveAuthOptions(options)).toThrow(/rpcTimeoutMs/);
    expect(() => resolveAuthOptions(options)).not.toThrow(secret);
  });
});
