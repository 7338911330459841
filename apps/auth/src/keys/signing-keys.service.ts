import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  errors,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  type JWTVerifyGetKey,
  type KeyLike,
} from 'jose';

import type { AuthConfig } from '../config/auth.config';
import { KeyEncryption } from './key-encryption';
import { type SigningKeyRecord, SigningKeysRepository } from './signing-keys.repository';

/** The one signing algorithm (ES256 on P-256, SECURITY K2). */
export const SIGNING_ALGORITHM = 'ES256';

/** Beyond the token lifetime, a retired key stays published this long: verifiers' clock skew and margin. */
export const KEY_RETIREMENT_MARGIN_SECONDS = 60;

const RELOAD_COOLDOWN_MS = 1000;

/** The key new tokens are signed with. */
export interface ActiveSigningKey {
  kid: string;
  privateKey: KeyLike;
}

/**
 * Signing keys: created on first start, persisted (private JWK sealed with AES-256-GCM when
 * AUTH_KEY_ENCRYPTION_KEY is set), rotated on demand, published as a public-only JWKS.
 */
@Injectable()
export class SigningKeysService implements OnModuleInit {
  private readonly logger = new Logger(SigningKeysService.name);
  private readonly encryption: KeyEncryption;
  private readonly accessTokenTtl: number;
  private active?: ActiveSigningKey;
  private published: JSONWebKeySet = { keys: [] };
  private localKeySet = createLocalJWKSet({ keys: [] });
  private lastReloadAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly keys: SigningKeysRepository,
    config: ConfigService<AuthConfig, true>,
  ) {
    this.encryption = new KeyEncryption(config.get('AUTH_KEY_ENCRYPTION_KEY', { infer: true }));
    this.accessTokenTtl = config.get('ACCESS_TOKEN_TTL', { infer: true });
  }

  async onModuleInit(): Promise<void> {
    if ((await this.keys.findActiveKid()) === undefined) {
      await this.keys.insertFirst(await this.generate());
    }
    // AUTH_KEY_ENCRYPTION_KEY set after keys were stored in plain form: they are sealed now, not at
    // the next rotation
    if (this.encryption.isEnabled) {
      const sealed = await this.keys.sealPlainKeys((plaintext, kid) => this.encryption.seal(plaintext, kid));
      if (sealed > 0) this.logger.log(`Sealed ${sealed} signing key(s) stored in plain form`);
    }
    await this.keys.erasePrivateKeysOfRetired();
    await this.reload();
  }

  /**
   * The active key; follows a rotation made by another instance. When the database cannot say which
   * key is active, the key held (still published, whichever came after it) signs: a refresh whose
   * rotation has committed must still hand out its tokens, or the client's retry counts as reuse.
   */
  async signingKey(): Promise<ActiveSigningKey> {
    let activeKid: string | undefined;
    try {
      activeKid = await this.keys.findActiveKid();
    } catch (error) {
      if (this.active !== undefined) return this.active;
      throw error;
    }
    if (this.active === undefined || this.active.kid !== activeKid) await this.reload();
    if (this.active === undefined) throw new Error('No active signing key');
    return this.active;
  }

  /** Public keys of every key whose tokens may still be valid (RFC 7517; SECURITY K1). */
  async jwks(): Promise<JSONWebKeySet> {
    await this.reload();
    return this.published;
  }

  /**
   * jose key resolver over this service's own keys, so auth verifies tokens without fetching its
   * own JWKS over HTTP. An unknown kid reloads from the database at most once per second.
   */
  readonly keyResolver: JWTVerifyGetKey = async (header, token) => {
    try {
      return await this.localKeySet(header, token);
    } catch (error) {
      if (
        !(error instanceof errors.JWKSNoMatchingKey) ||
        Date.now() - this.lastReloadAt < RELOAD_COOLDOWN_MS
      ) {
        throw error;
      }
      await this.reload();
      return this.localKeySet(header, token);
    }
  };

  /**
   * Makes a new key active; the previous one stays published until its tokens have expired. Keys
   * retired since lose their private half.
   */
  async rotate(): Promise<string> {
    const key = await this.generate();
    await this.keys.rotate(key, this.accessTokenTtl + KEY_RETIREMENT_MARGIN_SECONDS);
    await this.keys.erasePrivateKeysOfRetired();
    await this.reload();
    return key.kid;
  }

  private async generate(): Promise<Omit<SigningKeyRecord, 'isActive' | 'retireAt'>> {
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true });
    const publicJwk = toPublicJwk(await exportJWK(publicKey));
    const kid = await calculateJwkThumbprint(publicJwk);
    const privateJwk = JSON.stringify(await exportJWK(privateKey));
    return {
      kid,
      alg: SIGNING_ALGORITHM,
      publicJwk: { ...publicJwk, kid },
      privateJwk: this.encryption.seal(privateJwk, kid),
      isEncrypted: this.encryption.isEnabled,
    };
  }

  private async reload(): Promise<void> {
    this.lastReloadAt = Date.now();
    const records = await this.keys.findPublished();
    const keys = records.map((record) => ({ ...toPublicJwk(record.publicJwk), kid: record.kid }));
    this.published = { keys };
    this.localKeySet = createLocalJWKSet({ keys });
    const activeRecord = records.find((record) => record.isActive);
    if (activeRecord !== undefined && this.active?.kid !== activeRecord.kid) {
      const privateJwk = JSON.parse(
        this.encryption.open(activeRecord.privateJwk, activeRecord.isEncrypted, activeRecord.kid),
      ) as JWK;
      this.active = {
        kid: activeRecord.kid,
        privateKey: (await importJWK(privateJwk, SIGNING_ALGORITHM)) as KeyLike,
      };
    }
  }
}

// pick public members explicitly: exportJWK of a private key would include `d` (SECURITY pitfall 4)
function toPublicJwk(jwk: JWK): JWK {
  const { kty, crv, x, y } = jwk;
  if (kty !== 'EC' || crv !== 'P-256' || x === undefined || y === undefined) {
    throw new Error('Signing key is not a P-256 EC key');
  }
  return { kty, crv, x, y, alg: SIGNING_ALGORITHM, use: 'sig' };
}
