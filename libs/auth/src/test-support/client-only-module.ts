import { randomUUID } from 'node:crypto';

import { Test, type TestingModule } from '@nestjs/testing';

import { AuthModule } from '../lib/auth.module';

/**
 * A compiled (not initialised) module holding only AuthModule, for specs of the NATS client itself:
 * it verifies no token (its key resolver refuses) and runs silent. `name` prefixes its service name.
 */
export async function compileClientOnlyModule(natsUrl: string, name: string): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      AuthModule.forRoot({
        issuer: 'http://issuer.relay.test',
        audience: 'orders',
        natsUrl,
        serviceName: `${name}-${randomUUID().slice(0, 8)}`,
        keyResolver: () => Promise.reject(new Error('no tokens in this spec')),
      }),
    ],
  }).compile();
  moduleRef.useLogger(false);
  return moduleRef;
}
