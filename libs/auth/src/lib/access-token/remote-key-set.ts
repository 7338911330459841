import { Logger } from '@nestjs/common';
import {
  createLocalJWKSet,
  errors,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWK,
  type JWSHeaderParameters,
  type KeyLike,
} from 'jose';

const FETCH_TIMEOUT_MS = 5000;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * The issuer's JWKS, cached in memory for the life of the process (one instance per process).
 *
 * Unlike jose's `createRemoteJWKSet`, whose cooldown only starts after a *successful* fetch, every
 * fetch attempt (failed or not) starts the cooldown here, so an unknown-`kid` flood while the
 * issuer is down cannot turn into one fetch per request (SECURITY T8). A failed or partial fetch
 * never replaces the known keys, so an issuer outage does not stop verification.
 */
export class RemoteKeySet {
  private readonly logger = new Logger(RemoteKeySet.name);
  private local?: ReturnType<typeof createLocalJWKSet>;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private pending?: Promise<boolean>;
  private fetchCount = 0;
  private followUp?: NodeJS.Timeout;
  private loadedJson?: string;

  /** `onChange` runs whenever a fetched set differs from the one held (e.g. to drop verdicts cached under old keys). */
  constructor(
    private readonly url: URL,
    private readonly cooldownMs: number,
    private readonly onChange: () => void = () => undefined,
  ) {}

  /** Number of JWKS fetch attempts so far (for tests and metrics). */
  get fetches(): number {
    return this.fetchCount;
  }

  /** jose `JWTVerifyGetKey`: a key from the cached set, refetching at most once per cooldown on a miss. */
  readonly getKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<KeyLike> => {
    if (this.local === undefined) await this.refresh();
    const local = this.local;
    if (local === undefined) throw new errors.JWKSNoMatchingKey();
    try {
      return await local(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || !(await this.refresh())) throw error;
      const reloaded = this.local ?? local;
      return reloaded(header, token);
    }
  };

  /**
   * Fetches the JWKS unless one was attempted within the cooldown (then waits for a running fetch).
   * Resolves `true` when a new set was loaded.
   */
  refresh(): Promise<boolean> {
    if (this.pending) return this.pending;
    if (Date.now() - this.lastAttemptAt < this.cooldownMs) return Promise.resolve(false);
    this.lastAttemptAt = Date.now();
    this.fetchCount += 1;
    this.pending = this.load().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Refreshes now, or once the cooldown ends when a fetch just happened (key-rotation events). */
  refreshSoon(): Promise<boolean> {
    return this.refresh().then((isLoaded) => {
      if (!isLoaded && this.followUp === undefined) {
        this.followUp = setTimeout(() => {
          this.followUp = undefined;
          void this.refresh();
        }, this.cooldownMs);
        this.followUp.unref();
      }
      return isLoaded;
    });
  }

  /** Cancels a pending follow-up refresh. */
  stop(): void {
    clearTimeout(this.followUp);
    this.followUp = undefined;
  }

  private async load(): Promise<boolean> {
    try {
      const response = await fetch(this.url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body: unknown = await response.json();
      const keys = publicKeysOnly(body);
      this.local = createLocalJWKSet(keys);
      const json = JSON.stringify(keys);
      if (this.loadedJson !== undefined && json !== this.loadedJson) this.onChange();
      this.loadedJson = json;
      return true;
    } catch (error) {
      this.logger.warn(`JWKS fetch from ${this.url.href} failed (${describe(error)}); keeping known keys`);
      return false;
    }
  }
}

function publicKeysOnly(body: unknown): JSONWebKeySet {
  const keys = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error('response is not a JWKS');
  return {
    keys: keys.filter(
      (key): key is JWK =>
        typeof key === 'object' &&
        key !== null &&
        (key as JWK).kty !== 'oct' &&
        PRIVATE_MEMBERS.every((member) => !(member in key)),
    ),
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
