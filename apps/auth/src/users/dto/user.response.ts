import { ApiProperty } from '@nestjs/swagger';

import { ROLES, type Role } from '@relay/contracts';

import type { User } from '../user';

/** A user as shown to the user itself. */
export class UserResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'email', description: 'Lower-cased', example: 'alice@example.com' })
  email!: string;

  @ApiProperty({ enum: ROLES, isArray: true, example: ['customer'] })
  roles!: Role[];
}

/** A user as shown to admins. */
export class AdminUserResponse extends UserResponse {
  @ApiProperty({ description: 'Blocked users cannot log in and their tokens are refused' })
  blocked!: boolean;
}

export function toUserResponse(user: User): UserResponse {
  return { id: user.id, email: user.email, roles: user.roles };
}

export function toAdminUserResponse(user: User): AdminUserResponse {
  return { ...toUserResponse(user), blocked: user.blockedAt !== null };
}
