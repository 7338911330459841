import type { Role } from '@relay/contracts';

import type { User } from '../user';

/** A user as shown to the user itself. */
export interface UserResponse {
  id: string;
  email: string;
  roles: Role[];
}

/** A user as shown to admins. */
export interface AdminUserResponse extends UserResponse {
  blocked: boolean;
}

export function toUserResponse(user: User): UserResponse {
  return { id: user.id, email: user.email, roles: user.roles };
}

export function toAdminUserResponse(user: User): AdminUserResponse {
  return { ...toUserResponse(user), blocked: user.blockedAt !== null };
}
