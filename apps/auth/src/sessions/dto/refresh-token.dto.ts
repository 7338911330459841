import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';

/** `POST /auth/refresh` and `POST /auth/logout` body. */
export class RefreshTokenDto {
  @ApiProperty({
    minLength: 1,
    maxLength: 512,
    description: 'From `POST /auth/login`, `/auth/refresh` or `/auth/password`',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  refresh_token!: string;
}
