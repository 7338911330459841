import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/**
 * The JSON body of a refused HTTP call, as every Relay app writes it: Nest's exception shape (also
 * the auth filter's for 401/403/503) and Fastify's for 413/415, which adds `code`.
 */
export class ErrorResponse {
  @ApiProperty({ description: 'The HTTP status again', example: 400 })
  statusCode!: number;

  @ApiPropertyOptional({ description: 'The status reason phrase', example: 'Bad Request' })
  error?: string;

  @ApiProperty({
    description: 'What went wrong; for an invalid body, one line per refused field',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: ['email must be an email address'],
  })
  message!: string | string[];

  @ApiPropertyOptional({
    description: "Fastify's error code, on a body it refused before any handler ran",
    example: 'FST_ERR_CTP_BODY_TOO_LARGE',
  })
  code?: string;
}
