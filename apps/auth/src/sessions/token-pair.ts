import { ApiProperty } from '@nestjs/swagger';

/** `POST /auth/login` and `/auth/refresh` answer (RFC 6749 §5.1 names). */
export class TokenPairResponse {
  @ApiProperty({ description: 'An ES256 JWT for the Authorization: Bearer header' })
  access_token!: string;

  @ApiProperty({ description: 'Single use: `POST /auth/refresh` spends it for a new pair' })
  refresh_token!: string;

  @ApiProperty({ enum: ['Bearer'] })
  token_type!: 'Bearer';

  @ApiProperty({ type: 'integer', description: 'Seconds until the access token expires', example: 900 })
  expires_in!: number;
}
