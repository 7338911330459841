import { IsInt, IsOptional, IsString, IsUrl, Max, Min, MinLength } from 'class-validator';

import { BaseAppConfig, createConfigValidator } from '@relay/config';

/** Environment of the inventory app (CONTRACT.md, Processes). */
export class InventoryConfig extends BaseAppConfig {
  /** Default: 3002. */
  @IsInt({ message: 'PORT must be an integer between 1 and 65535' })
  @Min(1, { message: 'PORT must be an integer between 1 and 65535' })
  @Max(65_535, { message: 'PORT must be an integer between 1 and 65535' })
  PORT: number = 3002;

  /** Default: `${AUTH_ISSUER}/.well-known/jwks.json`. */
  @IsOptional()
  @IsUrl(
    { require_tld: false, require_protocol: true, protocols: ['http', 'https'] },
    { message: 'AUTH_JWKS_URI must be an http(s) URL' },
  )
  AUTH_JWKS_URI?: string;

  /** Default: `inventory`. */
  @IsString()
  @MinLength(1, { message: 'AUTH_AUDIENCE must not be empty' })
  AUTH_AUDIENCE: string = 'inventory';
}

export const validateInventoryConfig = createConfigValidator(InventoryConfig);
