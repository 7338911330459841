/** Successful token endpoint answer (RFC 6749 §5.1, RFC 8693 §2.2.1). */
export interface OAuthTokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  /** Granted scope, when it differs from or narrows what was asked. */
  scope?: string;
  /** Token exchange only. */
  issued_token_type?: string;
}

/** RFC 6749 §5.2 error body. */
export interface OAuthErrorResponse {
  error: string;
  error_description?: string;
}
