import { argon2Concurrency, ARGON2_OPTIONS, PasswordHasher } from './password-hasher';
import { isValidPassword } from './password-policy';

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

  // SECURITY P4: the same work as a wrong password (counted, not timed: one Argon2id check, through
  // the same path, against a hash with today's parameters), so an unknown email's answer is not faster
  it('does one Argon2id verification with the same parameters for an unknown account, and answers false', async () => {
    const stored = await hasher.hash('correct horse');
    const verify = jest.spyOn(hasher, 'verify');
    try {
      await expect(hasher.verifyNothing('wrong horse')).resolves.toBe(false);

      expect(verify).toHaveBeenCalledTimes(1);
      const [dummyHash, password] = verify.mock.calls[0];
      expect(password).toBe('wrong horse');
      expect(dummyHash).not.toBe(stored);
      expect(parametersOf(dummyHash)).toBe(parametersOf(stored));
      expect(parametersOf(dummyHash)).toBe('$argon2id$v=19$m=19456,t=2,p=1');
      await expect(verify.mock.results[0]?.value).resolves.toBe(false);
    } finally {
      verify.mockRestore();
    }
  });
});

describe(argon2Concurrency.name, () => {
  it('runs one computation per core, no more than libuv runs at once (4 threads unless UV_THREADPOOL_SIZE says)', () => {
    expect(argon2Concurrency(2, undefined)).toBe(2);
    expect(argon2Concurrency(16, undefined)).toBe(4);
    expect(argon2Concurrency(16, '12')).toBe(12);
    expect(argon2Concurrency(8, '64')).toBe(8);
    expect(argon2Concurrency(16, 'many')).toBe(4);
    expect(argon2Concurrency(16, '0')).toBe(4);
  });
});

describe(isValidPassword.name, () => {
  it.each([
    ['a'.repeat(7), false],
    ['a'.repeat(8), true],
    ['a'.repeat(128), true],
    ['a'.repeat(129), false],
    ['🔐'.repeat(8), true], // 32 UTF-8 bytes, 16 UTF-16 units, 8 characters
    ['🔐'.repeat(128), true],
    ['🔐'.repeat(129), false],
  ])('counts characters, not bytes (%#)', (password, expected) => {
    expect(isValidPassword(password)).toBe(expected);
  });

  // as hashed (NFKC): e + a combining acute accent is one é, so 8 such pairs are 8 characters, 4 are 4
  it('counts the characters the hash is made of', () => {
    expect(isValidPassword('e\u0301'.repeat(8))).toBe(true);
    expect(isValidPassword('e\u0301'.repeat(4))).toBe(false);
  });

  // before, counted as hashed only: NFKC spells ﬃ out as ffi, so three of them passed for nine
  it('counts a character NFKC expands once, as sent', () => {
    expect(isValidPassword('ﬃ'.repeat(3))).toBe(false);
    expect(isValidPassword('㍱½ﬃ')).toBe(false);
    expect(isValidPassword('ﬃ'.repeat(8))).toBe(true);
    expect(isValidPassword('ﬃ'.repeat(128))).toBe(true);
    expect(isValidPassword('ﬃ'.repeat(129))).toBe(false);
  });

  // a lone surrogate has no UTF-8 form: hashed as U+FFFD, any other lone surrogate would match it
  it('refuses a password with a lone surrogate, and keeps surrogate pairs', async () => {
    expect(isValidPassword('\ud800'.repeat(8))).toBe(false);
    expect(isValidPassword(`password${'\udfff'}`)).toBe(false);
    expect(isValidPassword('🔐🔐🔐🔐🔐🔐🔐🔐')).toBe(true);
    const hasher = new PasswordHasher();
    await expect(hasher.verify(await hasher.hash('\ud800'.repeat(8)), '\udfff'.repeat(8))).resolves.toBe(
      true,
    );
  });
});

/** `$argon2id$v=19$m=…,t=…,p=…`: the algorithm, version and cost of an encoded hash. */
function parametersOf(encoded: string): string {
  return encoded.split('$').slice(0, 4).join('$');
}
