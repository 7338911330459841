import { IsString, MaxLength } from 'class-validator';

import { IsPassword } from '../../users/password-policy';

/** `POST /auth/password` body; any other field is refused. */
export class ChangePasswordDto {
  // checked against the stored hash, so only bounded here (an over-long one is simply wrong)
  @IsString()
  @MaxLength(1024)
  current_password!: string;

  @IsString()
  @IsPassword({ message: 'new_password must be 8 to 128 characters' })
  new_password!: string;
}
