import { Transform } from 'class-transformer';
import {
  IsEmail,
  IsOptional,
  IsString,
  Matches,
  ValidateIf,
  Validate,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';

import { BaseAppConfig, createConfigValidator, IsIntegerInRange, IsPort } from '@relay/config';
import { MAX_ACCESS_TOKEN_TTL_SECONDS } from '@relay/contracts';

import { parseServiceClients } from '../tokens/service-clients';
import { isValidPassword } from '../users/password-policy';

/** The longest refresh-token lifetime `REFRESH_TOKEN_TTL` may set: 365 days. */
const MAX_REFRESH_TOKEN_TTL_SECONDS = 365 * 86_400;

@ValidatorConstraint({ name: 'serviceClients' })
class ServiceClientsConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string') return false;
    try {
      parseServiceClients(value);
      return true;
    } catch {
      return false;
    }
  }
}

@ValidatorConstraint({ name: 'passwordLength' })
class PasswordLengthConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && isValidPassword(value);
  }
}

const trimmed = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.trim() : value;

/** Environment of the auth app (CONTRACT.md, Processes). */
export class AuthConfig extends BaseAppConfig {
  /** Default: 3000. */
  @IsPort('PORT', 0)
  PORT: number = 3000;

  /** Access-token lifetime in seconds. Default: 900; at most `MAX_ACCESS_TOKEN_TTL_SECONDS`. */
  @IsIntegerInRange(
    1,
    MAX_ACCESS_TOKEN_TTL_SECONDS,
    `ACCESS_TOKEN_TTL must be an integer between 1 and ${MAX_ACCESS_TOKEN_TTL_SECONDS}`,
  )
  ACCESS_TOKEN_TTL: number = 900;

  /**
   * Refresh-token lifetime in seconds (renewed on each refresh). Default: 1209600 (14 days); at most a
   * year, so an expiry is always a date the database can store (a larger value failed every login).
   */
  @IsIntegerInRange(
    1,
    MAX_REFRESH_TOKEN_TTL_SECONDS,
    `REFRESH_TOKEN_TTL must be an integer between 1 and ${MAX_REFRESH_TOKEN_TTL_SECONDS} (seconds)`,
  )
  REFRESH_TOKEN_TTL: number = 1_209_600;

  /** Audiences of user tokens, space- or comma-separated. Default: `orders inventory`. */
  @Matches(/^[A-Za-z0-9._:-]+([ ,]+[A-Za-z0-9._:-]+)*$/, {
    message: 'ACCESS_TOKEN_AUDIENCE must be audience names separated by spaces or commas',
  })
  ACCESS_TOKEN_AUDIENCE: string = 'orders inventory';

  /** Bootstrapped admin account; set together with `AUTH_ADMIN_PASSWORD` or not at all. */
  @ValidateIf(
    (config: AuthConfig) => config.AUTH_ADMIN_EMAIL !== undefined || config.AUTH_ADMIN_PASSWORD !== undefined,
  )
  @Transform(trimmed)
  @IsEmail(
    {},
    { message: 'AUTH_ADMIN_EMAIL must be an email address (and is required with AUTH_ADMIN_PASSWORD)' },
  )
  AUTH_ADMIN_EMAIL?: string;

  /** Password of the bootstrapped admin (8..128 characters). */
  @ValidateIf(
    (config: AuthConfig) => config.AUTH_ADMIN_EMAIL !== undefined || config.AUTH_ADMIN_PASSWORD !== undefined,
  )
  @IsString({
    message: 'AUTH_ADMIN_PASSWORD must be 8..128 characters (and is required with AUTH_ADMIN_EMAIL)',
  })
  @Validate(PasswordLengthConstraint, {
    message: 'AUTH_ADMIN_PASSWORD must be 8..128 characters (and is required with AUTH_ADMIN_EMAIL)',
  })
  AUTH_ADMIN_PASSWORD?: string;

  /** Service clients: `id:secret[:scope scope…]` entries separated by commas. Default: none. */
  @IsOptional()
  @Validate(ServiceClientsConstraint, {
    message:
      'AUTH_CLIENTS must be id:secret[:scope scope...] entries separated by commas (unique ids, secrets of at least 32 characters)',
  })
  AUTH_CLIENTS?: string;

  /** 32-byte key (64 hex characters or base64) encrypting private signing keys at rest. Default: unset (plain). */
  @IsOptional()
  @Matches(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)$/, {
    message: 'AUTH_KEY_ENCRYPTION_KEY must be 32 bytes as 64 hex characters or base64',
  })
  AUTH_KEY_ENCRYPTION_KEY?: string;

  /** Fastify `trustProxy`: addresses/CIDRs of proxies whose X-Forwarded-For is believed. Default: none. */
  @IsOptional()
  @Matches(/^[0-9a-fA-F.:/]+(\s*,\s*[0-9a-fA-F.:/]+)*$/, {
    message: 'AUTH_TRUSTED_PROXY must be IP addresses or CIDR ranges separated by commas',
  })
  AUTH_TRUSTED_PROXY?: string;

  /**
   * Registrations accepted from one client address per 15 minutes; past it 429. Default: 200, as loose
   * as the login throttle's per-address limit (users behind one NAT, a test suite on one machine): the
   * Argon2 gate, not this, keeps logins answered during a registration flood.
   */
  @IsIntegerInRange(1, 1_000_000, 'AUTH_REGISTRATIONS_PER_ADDRESS must be an integer between 1 and 1000000')
  AUTH_REGISTRATIONS_PER_ADDRESS: number = 200;
}

export const validateAuthConfig = createConfigValidator(AuthConfig);

/**
 * Audiences a user token carries: the configured ones (CONTRACT: `["orders", "inventory"]` unless
 * configured otherwise), also the audiences a service or exchanged token may name.
 */
export function userTokenAudiences(config: Pick<AuthConfig, 'ACCESS_TOKEN_AUDIENCE'>): string[] {
  return [...new Set(config.ACCESS_TOKEN_AUDIENCE.split(/[ ,]+/).filter((name) => name !== ''))];
}
