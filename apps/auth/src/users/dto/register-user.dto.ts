import { IsEmail, IsString, MaxLength } from 'class-validator';

import { IsPassword } from '../password-policy';

/** `POST /auth/register` body; any other field is refused (no mass assignment of roles). */
export class RegisterUserDto {
  @IsString()
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be an email address' })
  email!: string;

  @IsString()
  @IsPassword()
  password!: string;
}
