import { registerDecorator, type ValidationOptions } from 'class-validator';

/** Password bounds in characters (Unicode code points), not bytes (CONTRACT: 8..128, any character). */
export const PASSWORD_MIN_CHARACTERS = 8;
export const PASSWORD_MAX_CHARACTERS = 128;

/** Length in code points: an emoji or a CJK character counts once, whatever its UTF-8/UTF-16 size. */
export function passwordCharacters(password: string): number {
  return Array.from(password).length;
}

export function isValidPasswordLength(password: string): boolean {
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
        message: `password must be ${PASSWORD_MIN_CHARACTERS} to ${PASSWORD_MAX_CHARACTERS} characters`,
        ...options,
      },
      validator: { validate: (value: unknown) => typeof value === 'string' && isValidPasswordLength(value) },
    });
  };
}
