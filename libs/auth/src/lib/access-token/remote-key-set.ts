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

import { describeError } from '@relay/contracts';

import { CallContext } from '../call-context/call-context';
import { reportJwksFetch } from '../telemetry/auth-channels';

const FETCH_TIMEOUT_MS = 5000;
// Floor between a fetch triggered by a key-rotation event and the fetch before it (of any kind), so
// neither a flood on the bus nor events mixed with unknown kids drive JWKS fetches above one a second
// (CONTRACT, tokens; never longer than the unknown-kid cooldown).
const KEY_EVENT_FLOOR_MS = 1000;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** The JWKS could not be fetched when a token needed a key it does not hold: a 503, not the token's fault. */
export class KeysUnavailableError extends Error {
  constructor() {
    super("The issuer's signing keys could not be fetched");
    this.name = 'KeysUnavailableError';
  }
}

/**
 * The issuer's JWKS, cached in memory (one instance per process) and fetched again in the background
 * when a token is checked once the set is `maxAgeMs` old (`jwksMaxAgeMs`, 10 minutes by default): a
 * key the issuer retired (its tokens have expired) stops verifying, a leaked one included.
 *
 * Unlike jose's `createRemoteJWKSet`, whose cooldown only starts after a *successful* fetch, every
 * fetch attempt (failed or not) starts the cooldown here, so an unknown-`kid` flood while the
 * issuer is down cannot turn into one fetch per request (SECURITY T8). A failed or partial fetch
 * never replaces the known keys, so an issuer outage does not stop verification.
 *
 * A key-rotation event (`refreshNow()`) fetches whatever the cooldown, as soon as 1 s has passed
 * since the last fetch: the issuer announced a key, so a fetch that ran before the announcement says
 * nothing about it, and one that ran up to 1 s before the announcement ends its wait within 1 s of it.
 * Events are coalesced.
 */
export class RemoteKeySet {
  private readonly logger = new Logger(RemoteKeySet.name);
  private local?: ReturnType<typeof createLocalJWKSet>;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private pending?: Promise<boolean>;
  private fetchCount = 0;
  private loadedJson?: string;
  private loadedAt = Number.NEGATIVE_INFINITY;
  private readonly eventFloorMs: number;
  private queued?: Promise<void>;
  // key-rotation events heard, and how many had been when the last fetch began
  private events = 0;
  private eventsAtLastFetch = 0;
  private floorTimer?: NodeJS.Timeout;
  private endFloorWait?: () => void;
  private isStopped = false;

  /**
   * `onChange` runs whenever a fetched set differs from the one held (e.g. to drop verdicts cached under
   * old keys); a set older than `maxAgeMs` is fetched again when a token is checked (jose's cacheMaxAge).
   */
  constructor(
    private readonly url: URL,
    private readonly cooldownMs: number,
    private readonly onChange: () => void,
    private readonly maxAgeMs: number,
  ) {
    this.eventFloorMs = Math.min(KEY_EVENT_FLOOR_MS, cooldownMs);
  }

  /** Number of JWKS fetch attempts so far (for tests and metrics). */
  get fetches(): number {
    return this.fetchCount;
  }

  /** jose `JWTVerifyGetKey`: a key from the cached set, refetching at most once per cooldown on a miss. */
  readonly getKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<KeyLike> => {
    if (this.local === undefined) await this.refresh();
    const local = this.local;
    // no set ever loaded: the issuer's keys are unknown here, which says nothing of the token
    if (local === undefined) throw new KeysUnavailableError();
    this.refreshIfStale();
    try {
      return await local(header, token);
    } catch (error) {
      // an unknown kid with a set held is the token's (forged, or of a key never published): 401
      if (!(error instanceof errors.JWKSNoMatchingKey) || !(await this.refresh())) throw error;
      return (this.local ?? local)(header, token);
    }
  };

  /**
   * Fetches a new set in the background once the one held is older than its maximum age: the token
   * being checked is checked against the set held, the next ones against the fresh one. A caller that
   * verifies with a key it took from this set earlier calls it for each token too.
   */
  refreshIfStale(): void {
    // the fetch is no part of the call that noticed the set's age: its logs and span are nobody's
    if (Date.now() - this.loadedAt >= this.maxAgeMs) void CallContext.detached(() => this.refresh());
  }

  /**
   * Fetches the JWKS unless one was attempted within the cooldown (then waits for a running fetch).
   * Resolves `true` when a new set was loaded.
   */
  refresh(): Promise<boolean> {
    if (this.pending) return this.pending;
    if (Date.now() - this.lastAttemptAt < this.cooldownMs) return Promise.resolve(false);
    return this.fetch();
  }

  /**
   * Fetches as soon as possible after a key-rotation event: after a fetch already running (it may
   * predate the new key), once 1 s has passed since the last fetch began, unless a fetch began after
   * the event meanwhile. Calls made before that fetch starts share it. Resolves once the set held
   * was fetched after the event (or the fetch failed).
   */
  refreshNow(): Promise<void> {
    this.events += 1;
    this.queued ??= this.fetchForEvents().finally(() => {
      this.queued = undefined;
    });
    return this.queued;
  }

  /** Cancels a queued event fetch and refuses further fetches (module shutdown). */
  stop(): void {
    this.isStopped = true;
    clearTimeout(this.floorTimer);
    this.endFloorWait?.();
  }

  private fetch(): Promise<boolean> {
    if (this.isStopped) return Promise.resolve(false);
    this.lastAttemptAt = Date.now();
    this.eventsAtLastFetch = this.events;
    this.fetchCount += 1;
    const pending = this.load().finally(() => {
      this.pending = undefined;
    });
    this.pending = pending;
    return pending;
  }

  // until a fetch has begun after every event heard: after any fetch running (it may predate the
  // announced key), once the floor has passed since the last fetch began. A fetch that began meanwhile
  // (an unknown kid's) sets the floor again; an event heard during this one's fetch asks for one more
  private async fetchForEvents(): Promise<void> {
    for (;;) {
      await this.pending;
      if (this.isStopped || this.eventsAtLastFetch === this.events) return;
      const wait = this.lastAttemptAt + this.eventFloorMs - Date.now();
      if (wait <= 0) {
        await (this.pending ?? this.fetch());
        continue;
      }
      await new Promise<void>((resolve) => {
        this.endFloorWait = resolve;
        this.floorTimer = setTimeout(resolve, wait);
      });
      this.floorTimer = undefined;
      this.endFloorWait = undefined;
    }
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
      this.loadedAt = Date.now();
      reportJwksFetch('success');
      return true;
    } catch (error) {
      reportJwksFetch('failure');
      this.logger.warn(
        `JWKS fetch from ${this.url.href} failed (${describeError(error)}); keeping known keys`,
      );
      return false;
    }
  }
}

function publicKeysOnly(body: unknown): JSONWebKeySet {
  const keys = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error('response is not a JWKS');
  const usable = keys.filter(
    (key): key is JWK =>
      typeof key === 'object' &&
      key !== null &&
      (key as JWK).kty !== 'oct' &&
      PRIVATE_MEMBERS.every((member) => !(member in key)),
  );
  // an issuer always publishes its active key: none is a restore or a stand-in answering, not a retirement
  if (usable.length === 0) throw new Error('the JWKS holds no public key');
  return { keys: usable };
}
