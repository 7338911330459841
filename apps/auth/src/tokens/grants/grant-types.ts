/** RFC 6749 §4.4. */
export const CLIENT_CREDENTIALS_GRANT = 'client_credentials';
/** RFC 8693 §2.1. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** RFC 8693 §3: the only subject token type accepted. */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
