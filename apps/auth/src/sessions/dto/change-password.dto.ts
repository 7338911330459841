import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';

import { IsPassword, PASSWORD_MAX_CHARACTERS, PASSWORD_MIN_CHARACTERS } from '../../users/password-policy';

/** `POST /auth/password` body; any other field is refused. */
export class ChangePasswordDto {
  // checked against the stored hash, so only bounded here (an over-long one is simply wrong)
  @ApiProperty({ format: 'password', maxLength: 1024 })
  @IsString()
  @MaxLength(1024)
  current_password!: string;

  @ApiProperty({
    format: 'password',
    description: 'Counted in characters (Unicode code points)',
    minLength: PASSWORD_MIN_CHARACTERS,
    maxLength: PASSWORD_MAX_CHARACTERS,
  })
  @IsString()
  @IsPassword({ message: 'new_password must be 8 to 128 characters of Unicode text' })
  new_password!: string;
}
