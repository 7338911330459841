/** Roles a user token can carry. */
export const ROLES = ['customer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Whether `role` is one of Relay's roles (a verified token may carry others: they grant nothing here). */
export function isRole(role: string): role is Role {
  return (ROLES as readonly string[]).includes(role);
}
