export {
  createTestIssuer,
  type MintOverrides,
  type TestIssuer,
  type TestIssuerOptions,
} from './lib/test-issuer';
export { type JwksServer, serveJwks } from './lib/jwks-server';
export { base64url, signCompactEs256 } from './lib/compact-jws';
export { NatsTestClient, type NatsTestCallOptions, type NestReply } from './lib/nats-test-client';
export { msUntil } from './lib/ms-until';
export { createRevocationBucket } from './lib/revocation-bucket';
export { getFreePort, waitForPort } from './lib/ports';
export { startTcpProxy, type TcpProxy } from './lib/tcp-proxy';
export {
  natsServerCommand,
  type NatsServer,
  type NatsServerOptions,
  startNatsServer,
} from './lib/nats-server';
export {
  type ServiceUnderTest,
  type ServiceUnderTestOptions,
  startServiceUnderTest,
} from './lib/service-under-test';
export type { BusConnectionInfo, BusService } from '@relay/nats-bus';
export { type RawRequestOptions, type RawResponse, sendRawRequest } from './lib/raw-request';
