import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** Successful token endpoint answer (RFC 6749 §5.1, RFC 8693 §2.2.1). */
export class OAuthTokenResponse {
  @ApiProperty({ description: 'An ES256 JWT for the Authorization: Bearer header' })
  access_token!: string;

  @ApiProperty({ enum: ['Bearer'] })
  token_type!: 'Bearer';

  @ApiProperty({ type: 'integer', description: 'Seconds until the token expires', example: 300 })
  expires_in!: number;

  /** Granted scope, when it differs from or narrows what was asked. */
  @ApiPropertyOptional({ description: 'Granted scope, when it differs from or narrows what was asked' })
  scope?: string;

  /** Token exchange only. */
  @ApiPropertyOptional({
    description: 'Token exchange only',
    example: 'urn:ietf:params:oauth:token-type:access_token',
  })
  issued_token_type?: string;
}

/** RFC 6749 §5.2 error body. */
export class OAuthErrorResponse {
  @ApiProperty({ example: 'invalid_client' })
  error!: string;

  @ApiPropertyOptional()
  error_description?: string;
}
