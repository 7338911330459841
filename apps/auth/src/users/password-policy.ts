import { registerDecorator, type ValidationOptions } from 'class-validator';

/** Password bounds in characters (Unicode code points), not bytes (CONTRACT: 8..128, any character). */
export const PASSWORD_MIN_CHARACTERS = 8;
export const PASSWORD_MAX_CHARACTERS = 128;

/**
 * Length in code points of the password in its shorter form, as sent or as hashed (NFKC,
 * `PasswordHasher`): an emoji or a CJK character counts once, whatever its UTF-8/UTF-16 size; `e` + a
 * combining accent is one `é`; and a ligature or a unit sign that NFKC spells out (`ﬃ` → `ffi`, `㍱` →
 * `hPa`) counts once, or three such characters would pass for nine.
 */
export function passwordCharacters(password: string): number {
  return Math.min(Array.from(password).length, Array.from(password.normalize('NFKC')).length);
}

/**
 * 8..128 characters as hashed, and well-formed text: a lone surrogate (`"\ud800"` in JSON) has no
 * UTF-8 form and would be hashed as U+FFFD, so that any other lone surrogate would open the account.
 */
export function isValidPassword(password: string): boolean {
  // with the u flag a surrogate pair is one code point: \p{Cs} matches lone surrogates only
  if (/\p{Cs}/u.test(password)) return false;
  const characters = passwordCharacters(password);
  return characters >= PASSWORD_MIN_CHARACTERS && characters <= PASSWORD_MAX_CHARACTERS;
}

/** class-validator decorator: a string of 8..128 code points. */
export function IsPassword(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) => {
    registerDecorator({
      name: 'isPassword',
      target: target.constructor,
      propertyName: String(propertyName),
      options: {
        message: `password must be ${PASSWORD_MIN_CHARACTERS} to ${PASSWORD_MAX_CHARACTERS} characters of Unicode text`,
        ...options,
      },
      validator: { validate: (value: unknown) => typeof value === 'string' && isValidPassword(value) },
    });
  };
}
