/** RFC 6749 §5.2 / RFC 8693 §2.2.2 error codes the token endpoint answers with. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target';

/** A refused token request; rendered as `{error, error_description}` with 400 (401 for invalid_client). */
export class OAuthError extends Error {
  readonly status: 400 | 401;

  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
  ) {
    super(description);
    this.name = 'OAuthError';
    this.status = code === 'invalid_client' ? 401 : 400;
  }
}
