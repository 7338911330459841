/** `POST /auth/login` and `/auth/refresh` answer (RFC 6749 §5.1 names). */
export interface TokenPairResponse {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
}
