import { IsIn, IsOptional, IsString, MinLength, ValidateIf } from 'class-validator';

import { BaseAppConfig, createConfigValidator, IsHttpUrl, IsIntegerInRange, IsPort } from '@relay/config';

const PROPAGATION_MODES = ['forward', 'exchange'] as const;
const CLIENT_ID_REQUIRED =
  'AUTH_CLIENT_ID is required when PROPAGATION_MODE=exchange or AUTH_CLIENT_SECRET is set';
const CLIENT_SECRET_REQUIRED =
  'AUTH_CLIENT_SECRET is required when PROPAGATION_MODE=exchange or AUTH_CLIENT_ID is set';

/** Environment of the orders app (CONTRACT.md, Processes). */
export class OrdersConfig extends BaseAppConfig {
  /** Default: 3001. */
  @IsPort()
  PORT: number = 3001;

  /** Default: `${AUTH_ISSUER}/.well-known/jwks.json`. */
  @IsOptional()
  @IsHttpUrl('AUTH_JWKS_URI')
  AUTH_JWKS_URI?: string;

  /** Default: `orders`. */
  @IsString()
  @MinLength(1, { message: 'AUTH_AUDIENCE must not be empty' })
  AUTH_AUDIENCE: string = 'orders';

  /** How long orders waits for inventory before failing the order. Default: 3000 ms. */
  @IsIntegerInRange(
    1,
    60_000,
    'ORDERS_RPC_TIMEOUT_MS must be a positive integer (milliseconds, at most 60000)',
  )
  ORDERS_RPC_TIMEOUT_MS: number = 3000;

  /** `forward`: the caller's token travels on; `exchange`: RFC 8693 token narrowed to inventory. Default: `forward`. */
  @IsIn(PROPAGATION_MODES, { message: 'PROPAGATION_MODE must be forward or exchange' })
  PROPAGATION_MODE: (typeof PROPAGATION_MODES)[number] = 'forward';

  /**
   * This service's own OAuth client id: token exchange, and orders' own token for releasing the stock
   * of failed orders after a crash. Required when PROPAGATION_MODE=exchange. Default: unset.
   */
  @ValidateIf(
    (config: OrdersConfig) =>
      config.PROPAGATION_MODE === 'exchange' || config.AUTH_CLIENT_SECRET !== undefined,
  )
  @IsString({ message: CLIENT_ID_REQUIRED })
  @MinLength(1, { message: CLIENT_ID_REQUIRED })
  AUTH_CLIENT_ID?: string;

  /** This service's own OAuth client secret. Required when PROPAGATION_MODE=exchange. Default: unset. */
  @ValidateIf(
    (config: OrdersConfig) => config.PROPAGATION_MODE === 'exchange' || config.AUTH_CLIENT_ID !== undefined,
  )
  @IsString({ message: CLIENT_SECRET_REQUIRED })
  @MinLength(1, { message: CLIENT_SECRET_REQUIRED })
  AUTH_CLIENT_SECRET?: string;
}

export const validateOrdersConfig = createConfigValidator(OrdersConfig);
