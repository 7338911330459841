/**
 * The names a `@Roles()` / `@Scopes()` list holds, or an error when the class is defined: a handler's
 * empty list would override its controller's (`@Roles()` under `@Roles('admin')` would let any caller
 * in, and beside `@Public()` make the handler public).
 */
export function policyNames(decorator: 'Roles' | 'Scopes', names: readonly string[]): readonly string[] {
  if (names.length === 0 || names.some((name) => typeof name !== 'string' || name.trim() === '')) {
    throw new Error(`@${decorator}() needs one or more non-empty names`);
  }
  return names;
}
