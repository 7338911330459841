import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

/** `GET /auth/admin/users?email=E`. */
export class ListUsersQuery {
  @ApiPropertyOptional({ maxLength: 320, description: 'Only the user with this email (case-insensitive)' })
  @IsOptional()
  @IsString()
  @MaxLength(320)
  email?: string;
}
