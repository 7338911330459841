/** Why a call was refused. */
export type AuthErrorCode =
  | 'missing_token'
  | 'invalid_token'
  | 'token_too_large'
  | 'token_revoked'
  | 'insufficient_scope'
  | 'revocation_unavailable'
  | 'keys_unavailable';

const STATUS: Record<AuthErrorCode, 401 | 403 | 503> = {
  missing_token: 401,
  invalid_token: 401,
  token_too_large: 401,
  token_revoked: 401,
  insufficient_scope: 403,
  revocation_unavailable: 503,
  keys_unavailable: 503,
};

const MESSAGE: Record<AuthErrorCode, string> = {
  missing_token: 'Missing access token: send Authorization: Bearer <token>',
  invalid_token: 'Invalid access token',
  token_too_large: 'Access token too large',
  token_revoked: 'Access token revoked',
  insufficient_scope: 'Insufficient role or scope for this operation',
  revocation_unavailable: 'Revocation list not available yet; retry later',
  keys_unavailable: "The issuer's signing keys could not be fetched; retry later",
};

/** A refused call: 401 (token), 403 (role/scope) or 503 (revocation state or signing keys unknown). Never carries the token. */
export class AuthError extends Error {
  /** HTTP / RPC status for this code. */
  readonly status: 401 | 403 | 503;

  constructor(
    readonly code: AuthErrorCode,
    message: string = MESSAGE[code],
  ) {
    super(message);
    this.name = 'AuthError';
    this.status = STATUS[code];
  }
}
