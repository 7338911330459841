import { IsOptional, IsString, MinLength, ValidateIf } from 'class-validator';

import { BaseAppConfig, createConfigValidator, IsHttpUrl, IsPort } from '@relay/config';

const CLIENT_ID_REQUIRED = 'AUTH_CLIENT_ID is required when AUTH_CLIENT_SECRET is set';
const CLIENT_SECRET_REQUIRED = 'AUTH_CLIENT_SECRET is required when AUTH_CLIENT_ID is set';

/** Environment of the inventory app (CONTRACT.md, Processes). */
export class InventoryConfig extends BaseAppConfig {
  /** Default: 3002. */
  @IsPort()
  PORT: number = 3002;

  /** Default: `${AUTH_ISSUER}/.well-known/jwks.json`. */
  @IsOptional()
  @IsHttpUrl('AUTH_JWKS_URI')
  AUTH_JWKS_URI?: string;

  /** Default: `inventory`. */
  @IsString()
  @MinLength(1, { message: 'AUTH_AUDIENCE must not be empty' })
  AUTH_AUDIENCE: string = 'inventory';

  /**
   * Inventory's own OAuth client id: an `inventory.reserved` event whose caller token orders would
   * refuse (narrowed to inventory by token exchange) goes with inventory's own token (scope
   * `orders:acknowledge`) instead. Default: unset (always the caller's token).
   */
  @ValidateIf((config: InventoryConfig) => config.AUTH_CLIENT_SECRET !== undefined)
  @IsString({ message: CLIENT_ID_REQUIRED })
  @MinLength(1, { message: CLIENT_ID_REQUIRED })
  AUTH_CLIENT_ID?: string;

  /** Inventory's own OAuth client secret. Default: unset. */
  @ValidateIf((config: InventoryConfig) => config.AUTH_CLIENT_ID !== undefined)
  @IsString({ message: CLIENT_SECRET_REQUIRED })
  @MinLength(1, { message: CLIENT_SECRET_REQUIRED })
  AUTH_CLIENT_SECRET?: string;
}

export const validateInventoryConfig = createConfigValidator(InventoryConfig);
