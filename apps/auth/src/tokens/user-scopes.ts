/** The `client_id` of tokens issued by `/auth/login` and `/auth/refresh` (the Relay web front end). */
export const USER_CLIENT_ID = 'relay-web';
