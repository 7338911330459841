import { Inject, Injectable } from '@nestjs/common';
import type { JWK } from 'jose';

import { DATABASE, type Database } from '@relay/database';

/** One stored signing key; `privateJwk` is sealed when `isEncrypted`. */
export interface SigningKeyRecord {
  kid: string;
  alg: string;
  publicJwk: JWK;
  privateJwk: string;
  isEncrypted: boolean;
  isActive: boolean;
  /** When an inactive key leaves the JWKS (every token it signed has expired). */
  retireAt: Date | null;
}

interface SigningKeyRow {
  kid: string;
  alg: string;
  public_jwk: JWK | string;
  private_jwk: string;
  is_encrypted: boolean;
  is_active: boolean;
  retire_at: Date | string | null;
}

const COLUMNS = 'kid, alg, public_jwk, private_jwk, is_encrypted, is_active, retire_at';

/** signing_keys table I/O. */
@Injectable()
export class SigningKeysRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  /** The active key and every key still published (not yet retired). */
  async findPublished(): Promise<SigningKeyRecord[]> {
    const rows = await this.db.query<SigningKeyRow>(
      `SELECT ${COLUMNS} FROM signing_keys WHERE is_active OR retire_at > now() ORDER BY created_at DESC`,
    );
    return rows.map(toRecord);
  }

  async findActiveKid(): Promise<string | undefined> {
    const rows = await this.db.query<{ kid: string }>('SELECT kid FROM signing_keys WHERE is_active');
    return rows[0]?.kid;
  }

  /** Stores the first key unless another instance already did; true when this one was stored. */
  async insertFirst(key: Omit<SigningKeyRecord, 'isActive' | 'retireAt'>): Promise<boolean> {
    const rows = await this.db.query(
      `INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk, is_encrypted, is_active)
       VALUES ($1, $2, $3, $4, $5, true) ON CONFLICT DO NOTHING RETURNING kid`,
      [key.kid, key.alg, JSON.stringify(key.publicJwk), key.privateJwk, key.isEncrypted],
    );
    return rows.length === 1;
  }

  /**
   * Seals every private key stored in plain form with `seal` (keys made before AUTH_KEY_ENCRYPTION_KEY
   * was set); answers how many it sealed.
   */
  async sealPlainKeys(seal: (plaintext: string, kid: string) => string): Promise<number> {
    const rows = await this.db.query<{ kid: string; private_jwk: string }>(
      "SELECT kid, private_jwk FROM signing_keys WHERE NOT is_encrypted AND private_jwk <> ''",
    );
    let sealed = 0;
    for (const row of rows) {
      // another instance sealing at the same time: one of the two updates finds the row sealed
      const updated = await this.db.query(
        'UPDATE signing_keys SET private_jwk = $2, is_encrypted = true WHERE kid = $1 AND NOT is_encrypted RETURNING kid',
        [row.kid, seal(row.private_jwk, row.kid)],
      );
      sealed += updated.length;
    }
    return sealed;
  }

  /**
   * Erases the private half of every key past its retirement: nothing signs with it any more, and a
   * copy of the database (a backup, a dump) no longer holds a key that could mint tokens.
   */
  async erasePrivateKeysOfRetired(): Promise<void> {
    await this.db.query(
      "UPDATE signing_keys SET private_jwk = '' WHERE NOT is_active AND retire_at <= now() AND private_jwk <> ''",
    );
  }

  /** Retires the active key after `retireAfterSeconds` and makes `key` the active one, atomically. */
  async rotate(
    key: Omit<SigningKeyRecord, 'isActive' | 'retireAt'>,
    retireAfterSeconds: number,
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      // one rotation at a time (readers go on): a second one waits, then retires the key the first
      // stored; without it, it would miss that key and break the one-active-key index
      await tx.query('LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE');
      await tx.query(
        `UPDATE signing_keys SET is_active = false, retire_at = now() + make_interval(secs => $1)
         WHERE is_active`,
        [retireAfterSeconds],
      );
      await tx.query(
        `INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk, is_encrypted, is_active)
         VALUES ($1, $2, $3, $4, $5, true)`,
        [key.kid, key.alg, JSON.stringify(key.publicJwk), key.privateJwk, key.isEncrypted],
      );
    });
  }
}

function toRecord(row: SigningKeyRow): SigningKeyRecord {
  return {
    kid: row.kid,
    alg: row.alg,
    publicJwk: typeof row.public_jwk === 'string' ? (JSON.parse(row.public_jwk) as JWK) : row.public_jwk,
    privateJwk: row.private_jwk,
    isEncrypted: row.is_encrypted,
    isActive: row.is_active,
    retireAt: row.retire_at === null ? null : new Date(row.retire_at),
  };
}
