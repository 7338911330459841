import { jwtVerify, SignJWT } from 'jose';

import { type Database, type TestDatabase, testDatabaseBackends } from '@relay/database';

import { AUTH_MIGRATIONS } from '../database/migrations';
import { testConfigService } from '../testing/test-config';
import { SigningKeysRepository } from './signing-keys.repository';
import { SigningKeysService } from './signing-keys.service';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** A JWT signed with the service's active key, under its kid or the one given. */
async function signedBy(service: SigningKeysService, kid?: string): Promise<string> {
  const active = await service.signingKey();
  return new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: kid ?? active.kid }).sign(active.privateKey);
}

async function startService(db: Database, env: Record<string, string> = {}): Promise<SigningKeysService> {
  const service = new SigningKeysService(new SigningKeysRepository(db), testConfigService(env));
  await service.onModuleInit();
  return service;
}

describe.each(testDatabaseBackends(AUTH_MIGRATIONS))(`${SigningKeysService.name} on $name`, (backend) => {
  let database: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    database = await backend.open();
    db = database.db;
  });

  afterAll(async () => {
    await database?.cleanup();
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

  it('signs with the key it holds when the database cannot say which key is active', async () => {
    const repository = new SigningKeysRepository(db);
    const service = new SigningKeysService(repository, testConfigService());
    await service.onModuleInit();
    const held = await service.signingKey();
    repository.findActiveKid = () => Promise.reject(new Error('connection terminated'));

    expect((await service.signingKey()).kid).toBe(held.kid);
    const fresh = new SigningKeysService(repository, testConfigService());
    await expect(fresh.signingKey()).rejects.toThrow('connection terminated');
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

  // two admins rotating at once (or one retrying): each rotation retires the key active when it runs,
  // so both answer, and exactly one key is left active, the last one stored
  it('answers rotations at the same time, one after the other, with one key active at the end', async () => {
    const service = await startService(db);
    const firstKid = (await service.signingKey()).kid;

    // the rotations start while another transaction holds the active key's row, so they overlap
    let rotations: Promise<string[]> | undefined;
    await db.transaction(async (tx) => {
      await tx.query('SELECT kid FROM signing_keys WHERE is_active FOR UPDATE');
      rotations = Promise.all([service.rotate(), service.rotate(), service.rotate()]);
      await new Promise((resolve) => setTimeout(resolve, 300));
    });
    const rotated = await rotations;

    const rows = await db.query<{ kid: string; is_active: boolean; retire_at: Date | string | null }>(
      'SELECT kid, is_active, retire_at FROM signing_keys',
    );
    expect(rows).toHaveLength(4);
    const active = rows.filter((row) => row.is_active);
    expect(active).toHaveLength(1);
    expect(rotated).toContain(active[0]?.kid);
    expect(rows.filter((row) => !row.is_active).map((row) => row.kid)).toEqual(
      expect.arrayContaining([firstKid]),
    );
    expect(rows.every((row) => row.is_active === (row.retire_at === null))).toBe(true);
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

  it('seals the keys stored in plain form once AUTH_KEY_ENCRYPTION_KEY is set, retired ones included', async () => {
    const plain = await startService(db);
    const kids = [(await plain.signingKey()).kid, await plain.rotate()];
    const encryptionKey = { AUTH_KEY_ENCRYPTION_KEY: 'c3'.repeat(32) };

    const sealed = await startService(db, encryptionKey);

    const rows = await db.query<{ kid: string; private_jwk: string; is_encrypted: boolean }>(
      'SELECT kid, private_jwk, is_encrypted FROM signing_keys ORDER BY created_at',
    );
    expect(rows.map((row) => [row.kid, row.is_encrypted])).toEqual(kids.map((kid) => [kid, true]));
    for (const row of rows) expect(row.private_jwk).not.toContain('"d"');
    expect((await sealed.signingKey()).kid).toBe(kids[1]);
    await expect(startService(db)).rejects.toThrow('AUTH_KEY_ENCRYPTION_KEY');
  });

  // nothing signs with a retired key: a backup or a dump of the database must not be able to either
  it("erases a retired key's private half once it is past its retirement, at start and at a rotation", async () => {
    const service = await startService(db);
    const retired = (await service.signingKey()).kid;
    const stillPublished = await service.rotate();
    await db.query("UPDATE signing_keys SET retire_at = now() - interval '1 second' WHERE kid = $1", [
      retired,
    ]);
    const privateOf = async (kid: string): Promise<string | undefined> =>
      (
        await db.query<{ private_jwk: string }>('SELECT private_jwk FROM signing_keys WHERE kid = $1', [kid])
      )[0]?.private_jwk;

    await startService(db);
    expect(await privateOf(retired)).toBe('');
    expect(await privateOf(stillPublished)).toContain('"d"');

    await service.rotate();
    await db.query("UPDATE signing_keys SET retire_at = now() - interval '1 second' WHERE kid = $1", [
      stillPublished,
    ]);
    const active = await service.rotate();
    expect(await privateOf(stillPublished)).toBe('');
    expect(await privateOf(active)).toContain('"d"');
  });

  it('verifies tokens by kid with its own keys: the active one, a retired one still published, one another replica made', async () => {
    const service = await startService(db);
    const replica = await startService(db);
    const before = await signedBy(service);
    await service.rotate();
    const after = await signedBy(service);
    await replica.rotate();
    const byReplica = await signedBy(replica);
    // its own reload of a moment ago holds back another for a second (CONTRACT: accepted from 1 s after)
    await new Promise((resolve) => setTimeout(resolve, 1100));

    for (const token of [before, after, byReplica]) {
      await expect(jwtVerify(token, service.keyResolver)).resolves.toBeDefined();
    }
    // the same kid with another key's signature, and a kid nobody made, are refused
    const forged = `${after.split('.').slice(0, 2).join('.')}.${before.split('.')[2]}`;
    await expect(jwtVerify(forged, service.keyResolver)).rejects.toThrow();
    await expect(jwtVerify(await signedBy(service, 'no-such-kid'), service.keyResolver)).rejects.toThrow();
  });

  it('reloads its keys from the database for an unknown kid at most once a second', async () => {
    const service = await startService(db);
    const stranger = await signedBy(service, 'no-such-kid');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const reads = jest.spyOn(SigningKeysRepository.prototype, 'findPublished');
    try {
      const verdicts = await Promise.allSettled(
        Array.from({ length: 50 }, () => jwtVerify(stranger, service.keyResolver)),
      );

      expect(verdicts.every(({ status }) => status === 'rejected')).toBe(true);
      expect(reads).toHaveBeenCalledTimes(1);
      await expect(jwtVerify(await signedBy(service), service.keyResolver)).resolves.toBeDefined();
      expect(reads).toHaveBeenCalledTimes(1);
    } finally {
      reads.mockRestore();
    }
  });
});
