import { ARGON2_OPTIONS, PasswordHasher } from './password-hasher';
import { isValidPasswordLength } from './password-policy';

describe(PasswordHasher.name, () => {
  const hasher = new PasswordHasher();

  it('hashes with Argon2id, m=19456 KiB, t=2, p=1 and a random salt', async () => {
    const first = await hasher.hash('correct horse');
    const second = await hasher.hash('correct horse');

    expect(first).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(first).not.toBe(second);
    expect(ARGON2_OPTIONS).toMatchObject({ memoryCost: 19_456, timeCost: 2, parallelism: 1 });
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hasher.hash('correct horse');

    await expect(hasher.verify(hash, 'correct horse')).resolves.toBe(true);
    await expect(hasher.verify(hash, 'correct horsE')).resolves.toBe(false);
  });

  it('round-trips a 128-character Unicode password without truncating it', async () => {
    const password = '🔐'.repeat(127) + 'a';
    const hash = await hasher.hash(password);

    await expect(hasher.verify(hash, password)).resolves.toBe(true);
    await expect(hasher.verify(hash, '🔐'.repeat(127) + 'b')).resolves.toBe(false);
  });

  it('answers false, not an error, for an unreadable hash', async () => {
    await expect(hasher.verify('not a hash', 'whatever')).resolves.toBe(false);
  });

  it('does the hashing work for unknown accounts and answers false', async () => {
    await expect(hasher.verifyNothing('correct horse')).resolves.toBe(false);
  });
});

describe(isValidPasswordLength.name, () => {
  it.each([
    ['a'.repeat(7), false],
    ['a'.repeat(8), true],
    ['a'.repeat(128), true],
    ['a'.repeat(129), false],
    ['🔐'.repeat(8), true], // 32 UTF-8 bytes, 16 UTF-16 units, 8 characters
    ['🔐'.repeat(128), true],
    ['🔐'.repeat(129), false],
  ])('counts characters, not bytes (%#)', (password, expected) => {
    expect(isValidPasswordLength(password)).toBe(expected);
  });
});
