import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';

import { AuthModule } from '../auth.module';
import { warnIfClearText } from './clear-text';

describe(warnIfClearText.name, () => {
  const warnings = (location: string): string[] => {
    const lines: string[] = [];
    warnIfClearText({ warn: (line: string) => lines.push(line) } as unknown as Logger, location, 'It goes');
    return lines;
  };

  it.each(['http://auth:3000/.well-known/jwks.json', 'http://10.0.0.7/oauth/token', 'http://issuer.example'])(
    'warns for %s, a host on a network',
    (location) => {
      expect(warnings(location)).toEqual([
        `It goes over plain HTTP to ${new URL(location).host}: anyone on the network path can read or answer it; use https outside a private network`,
      ]);
    },
  );

  it.each(['https://issuer.example', 'http://localhost:3000', 'http://127.0.0.1:3000', 'http://[::1]:3000'])(
    'stays quiet for %s (TLS, or this machine)',
    (location) => {
      expect(warnings(location)).toEqual([]);
    },
  );

  it('is what AuthModule says at start-up for a JWKS and a token endpoint on plain HTTP', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      await Test.createTestingModule({
        imports: [
          AuthModule.forRoot({
            issuer: 'http://auth.internal:3000',
            audience: 'orders',
            natsUrl: 'nats://127.0.0.1:4222',
            serviceName: 'clear-text-spec',
            clientId: 'orders',
            clientSecret: 'a-client-secret-of-thirty-two-characters',
          }),
        ],
      }).compile();

      const lines = warn.mock.calls.map(([line]) => String(line));
      expect(lines).toContainEqual(
        expect.stringMatching(/^The JWKS is fetched over plain HTTP to auth\.internal:3000/),
      );
      expect(lines).toContainEqual(
        expect.stringMatching(
          /^The client secret and callers' tokens go to the token endpoint over plain HTTP/,
        ),
      );
      expect(lines.join('\n')).not.toContain('a-client-secret-of-thirty-two-characters');
    } finally {
      warn.mockRestore();
    }
  });
});
