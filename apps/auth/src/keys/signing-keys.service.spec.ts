import { type Database, openDatabase } from '@relay/database';

import { AUTH_MIGRATIONS } from '../database/migrations';
import { testConfigService } from '../testing/test-config';
import { SigningKeysRepository } from './signing-keys.repository';
import { SigningKeysService } from './signing-keys.service';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

async function startService(db: Database, env: Record<string, string> = {}): Promise<SigningKeysService> {
  const service = new SigningKeysService(new SigningKeysRepository(db), testConfigService(env));
  await service.onModuleInit();
  return service;
}

describe(SigningKeysService.name, () => {
  let db: Database;

  beforeAll(async () => {
    db = await openDatabase({ migrations: AUTH_MIGRATIONS });
  });

  afterAll(async () => {
    await db.close();
  });

  beforeEach(async () => {
    await db.query('DELETE FROM signing_keys');
  });

  it('publishes only public EC members with kid, alg and use', async () => {
    const service = await startService(db);

    const { keys } = await service.jwks();

    expect(keys).toHaveLength(1);
    expect(Object.keys(keys[0] ?? {}).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    for (const member of PRIVATE_MEMBERS) expect(keys[0]).not.toHaveProperty(member);
  });

  it('keeps the same key across a restart', async () => {
    const first = await startService(db);
    const restarted = await startService(db);

    expect((await restarted.signingKey()).kid).toBe((await first.signingKey()).kid);
  });

  it('rotates to a new active key and keeps the old one published', async () => {
    const service = await startService(db);
    const oldKid = (await service.signingKey()).kid;

    const newKid = await service.rotate();

    expect(newKid).not.toBe(oldKid);
    expect((await service.signingKey()).kid).toBe(newKid);
    expect((await service.jwks()).keys.map((key) => key.kid)).toEqual([newKid, oldKid]);
  });

  it('drops a retired key from the JWKS once its tokens have expired', async () => {
    const service = await startService(db);
    const oldKid = (await service.signingKey()).kid;
    await service.rotate();

    await db.query("UPDATE signing_keys SET retire_at = now() - interval '1 second' WHERE kid = $1", [
      oldKid,
    ]);

    expect((await service.jwks()).keys.map((key) => key.kid)).not.toContain(oldKid);
  });

  it('seals private keys with AUTH_KEY_ENCRYPTION_KEY and refuses to start without it', async () => {
    const encryptionKey = { AUTH_KEY_ENCRYPTION_KEY: 'a1'.repeat(32) };
    const sealed = await startService(db, encryptionKey);

    const rows = await db.query<{ private_jwk: string; is_encrypted: boolean }>(
      'SELECT private_jwk, is_encrypted FROM signing_keys',
    );

    expect(rows[0]?.is_encrypted).toBe(true);
    expect(rows[0]?.private_jwk).not.toContain('"d"');
    const restarted = await startService(db, encryptionKey);
    expect((await restarted.signingKey()).kid).toBe((await sealed.signingKey()).kid);
    await expect(startService(db)).rejects.toThrow('AUTH_KEY_ENCRYPTION_KEY');
    await expect(startService(db, { AUTH_KEY_ENCRYPTION_KEY: 'b2'.repeat(32) })).rejects.toThrow(
      'AUTH_KEY_ENCRYPTION_KEY',
    );
  });

  it('resolves verification keys by kid from its own set', async () => {
    const service = await startService(db);
    const { kid } = await service.signingKey();

    const key = await service.keyResolver({ alg: 'ES256', kid }, { payload: '', signature: '' });

    expect(key).toBeDefined();
  });
});
