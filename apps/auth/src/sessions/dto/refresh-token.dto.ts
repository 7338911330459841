import { IsString, MaxLength, MinLength } from 'class-validator';

/** `POST /auth/refresh` and `POST /auth/logout` body. */
export class RefreshTokenDto {
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  refresh_token!: string;
}
