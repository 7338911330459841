import type { Role } from '@relay/contracts';

/** A stored account. `passwordHash` never leaves the users/sessions services. */
export interface User {
  id: string;
  /** Normalised: NFC, lower case. */
  email: string;
  passwordHash: string;
  roles: Role[];
  blockedAt: Date | null;
}

/** Roles of a self-registered account. */
export const CUSTOMER_ROLES: Role[] = ['customer'];

/** Roles of the bootstrapped admin: admin, and customer so it can also place orders. */
export const ADMIN_ROLES: Role[] = ['admin', 'customer'];

/** The one form an email is stored and compared in (case-insensitive uniqueness). */
export function normaliseEmail(email: string): string {
  return email.trim().normalize('NFC').toLowerCase();
}
