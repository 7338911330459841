export { AuthModule } from './lib/auth.module';
export type { AuthModuleExtras } from './lib/auth.module-definition';
export type { AuthModuleOptions, PropagationMode } from './lib/auth-module-options';
export { AccessTokenVerifier, type VerifiedToken } from './lib/access-token/access-token-verifier';
export type { Principal } from './lib/access-token/access-token';
export { AccessTokenGuard } from './lib/guards/access-token.guard';
export { RolesGuard } from './lib/guards/roles.guard';
export {
  CALL_FINISHED_CHANNEL,
  CallContext,
  type CallContextState,
  type CallTransport,
  type FinishedCall,
  type IncomingCall,
  type TokenVerdict,
} from './lib/call-context/call-context';
export { continueRequestId } from './lib/call-context/trace-context';
export { type RelayFastifyOptions, relayFastifyOptions } from './lib/http/fastify-options';
export { type HeaderBearingRequest, readRequestHeader } from './lib/http/request-header';
export { type FinishedNatsCall, NATS_CALL_FINISHED_CHANNEL } from './lib/telemetry/outgoing-call';
export {
  type AppliedRevocation,
  JWKS_FETCH_CHANNEL,
  type JwksFetch,
  type JwksFetchResult,
  type LostRevocationFeed,
  REVOCATION_APPLIED_CHANNEL,
  REVOCATION_FEED_LOST_CHANNEL,
} from './lib/telemetry/auth-channels';
export { tokenFingerprint } from './lib/telemetry/verification-span';
export { Public } from './lib/decorators/public.decorator';
export { Roles } from './lib/decorators/roles.decorator';
export { Scopes } from './lib/decorators/scopes.decorator';
export { CurrentPrincipal } from './lib/decorators/current-principal.decorator';
export { AuthError, type AuthErrorCode } from './lib/errors/auth.error';
export { RpcCallError, RpcNotSentError, RpcTimeoutError } from './lib/errors/rpc-call.error';
export { TransportExceptionFilter } from './lib/errors/transport-exception.filter';
export { RevocationList } from './lib/revocation/revocation-list';
export { RelayNatsClient, type RelayNatsCallOptions } from './lib/nats/relay-nats-client';
export { natsMicroserviceOptions, RelayServerNats } from './lib/nats/nats-microservice-options';
export {
  isNatsUnreachable,
  type NatsConnectionSettings,
  natsConnectionOptions,
  probeNats,
} from './lib/nats/nats-connection';
export { MalformedNatsPayload, StrictNatsDeserializer } from './lib/nats/strict-nats-deserializer';
export { StrictValidationPipe } from './lib/nats/strict-validation.pipe';
export { RelayHttpClient, type RelayFetchInit } from './lib/http/relay-http-client';
export { OutgoingAuthorization, type OutgoingCallTarget } from './lib/propagation/outgoing-authorization';
