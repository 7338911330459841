import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsString, MaxLength } from 'class-validator';

import { IsPassword, PASSWORD_MAX_CHARACTERS, PASSWORD_MIN_CHARACTERS } from '../password-policy';

/** `POST /auth/register` body; any other field is refused (no mass assignment of roles). */
export class RegisterUserDto {
  @ApiProperty({
    format: 'email',
    maxLength: 254,
    description: 'Compared case-insensitively',
    example: 'alice@example.com',
  })
  @IsString()
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be an email address' })
  email!: string;

  @ApiProperty({
    format: 'password',
    description: 'Counted in characters (Unicode code points)',
    minLength: PASSWORD_MIN_CHARACTERS,
    maxLength: PASSWORD_MAX_CHARACTERS,
  })
  @IsString()
  @IsPassword()
  password!: string;
}
