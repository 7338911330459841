// @relay/auth/passport: for apps that guard with passport's `AuthGuard('jwt')` (AuthModule with
// `installGlobalGuard: false`); its own entry, so apps without passport need neither peer.
export { RelayJwtStrategy, RELAY_JWT_STRATEGY } from './lib/passport/relay-jwt.strategy';
