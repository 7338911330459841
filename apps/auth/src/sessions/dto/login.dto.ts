import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';

/**
 * `POST /auth/login` body. Only shape is checked here: a malformed email or a wrong-length password
 * simply fails to log in (401), so validation never hints at which accounts exist.
 */
export class LoginDto {
  @ApiProperty({ maxLength: 320, example: 'alice@example.com' })
  @IsString()
  @MaxLength(320)
  email!: string;

  // far above the 128-character policy, only to bound hashing work
  @ApiProperty({ format: 'password', maxLength: 4096 })
  @IsString()
  @MaxLength(4096)
  password!: string;
}
