import { IsOptional, IsString, MaxLength } from 'class-validator';

/** `GET /auth/admin/users?email=E`. */
export class ListUsersQuery {
  @IsOptional()
  @IsString()
  @MaxLength(320)
  email?: string;
}
