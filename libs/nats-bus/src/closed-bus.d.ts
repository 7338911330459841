/** The services with a bus identity. */
export declare const SERVICES: readonly ['auth', 'orders', 'inventory'];
export type BusService = (typeof SERVICES)[number];

/** The JetStream KV bucket holding revocations (`REVOCATION_BUCKET` in @relay/contracts). */
export declare const REVOCATION_BUCKET: 'relay-revocations';

/** JetStream limits of the bus's one account: streams (the revocation bucket's) and consumers. */
export declare const JETSTREAM_LIMITS: { readonly maxStreams: 1; readonly maxConsumers: 1000 };

/** What one identity may do on the bus (nats-server `permissions`). */
export interface BusPermission {
  /** Subjects it may publish to (`publish.allow`). */
  publish: string[];
  /** Subjects it may not publish to, though `publish` covers them (`publish.deny`, which wins). */
  publishDeny: string[];
  /** Subjects it may subscribe to (`subscribe.allow`). */
  subscribe: string[];
}

/** The closed bus's permission table, one row per service. */
export declare function busPermissions(bucket?: string): Record<BusService, BusPermission>;

/** The reply-inbox prefix a service's identity must use (`_INBOX_<service>`). */
export declare function inboxPrefixOf(service: string): string;

/** The inbox prefix of a service's revocation feed (`_INBOX_<service>.revocations`): no other identity may publish there. */
export declare function revocationInboxPrefixOf(service: string): string;

export interface NatsServerConfigOptions {
  publicKeys: Record<string, string>;
  certFile: string;
  keyFile: string;
  storeDir?: string;
  listen?: string;
  monitor?: string;
  bucket?: string;
}

/** nats-server configuration text: JetStream, TLS required, one NKey user per service with its permissions. */
export declare function natsServerConfig(options: NatsServerConfigOptions): string;

export interface BusMaterialOptions {
  /** DNS names and IP addresses in the server certificate. Default: localhost, 127.0.0.1, ::1. */
  hosts?: readonly string[];
  /** JetStream store directory written into the config. Default: none (pass `-sd`). */
  storeDir?: string;
  /** `listen` address written into the config. Default: none (pass `-a`/`-p`). */
  listen?: string;
  /** Monitoring address written into the config. Default: none. */
  monitor?: string;
  /** Where the server will find `outDir` (a container mount). Default: `outDir`. */
  configDir?: string;
  /** Owner of the written files (a container user). Default: the current user. */
  owner?: { uid: number; gid: number };
}

export interface BusMaterial {
  /** `server/nats-server.conf`. */
  configFile: string;
  /** The CA certificate (PEM) clients check the server against. */
  caFile: string;
  /** Each service's NKey seed file (`<service>/<service>.nk`, mode 0600). */
  seedFiles: Record<BusService, string>;
  /** Each service's NKey public key (`U…`). */
  publicKeys: Record<BusService, string>;
}

/** Writes a closed bus's CA, server certificate, NKeys and nats-server configuration under `outDir`. */
export declare function writeBusMaterial(outDir: string, options?: BusMaterialOptions): Promise<BusMaterial>;

/** Whether `writeBusMaterial(outDir)` has already run there. */
export declare function hasBusMaterial(outDir: string): boolean;

/**
 * Renders `server/nats-server.conf` of existing material again from its seeds and today's permission
 * table, keeping every key and certificate. Returns the config file.
 */
export declare function renderBusConfig(outDir: string, options?: Omit<BusMaterialOptions, 'hosts'>): string;

/** What a client of the bus needs: the demo's `${DATA_DIR}/nats/connection.json`. */
export interface BusConnectionInfo {
  url: string;
  caFile: string;
  seedFiles: Record<BusService, string>;
  inboxPrefixes: Record<BusService, string>;
}

export declare function connectionInfo(
  url: string,
  material: Pick<BusMaterial, 'caFile' | 'seedFiles'>,
): BusConnectionInfo;

/** The public key (`U…`) of an NKey seed. */
export declare function publicKeyOfSeed(seed: string): string;
