import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const PREFIX = 'aes256gcm-v1';
const IV_BYTES = 12;

/**
 * Seals private signing keys at rest with AES-256-GCM when AUTH_KEY_ENCRYPTION_KEY is set; the
 * key id is bound as additional data so a sealed key cannot be swapped onto another row.
 * Without a key, private keys are stored in plain form in the service's own database.
 */
export class KeyEncryption {
  private readonly key?: Buffer;

  constructor(keyMaterial?: string) {
    if (keyMaterial !== undefined) this.key = decodeKey(keyMaterial);
  }

  get isEnabled(): boolean {
    return this.key !== undefined;
  }

  seal(plaintext: string, kid: string): string {
    if (this.key === undefined) return plaintext;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.key, iv);
    cipher.setAAD(Buffer.from(kid, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [PREFIX, iv, cipher.getAuthTag(), ciphertext].map(encodePart).join('.');
  }

  open(stored: string, isSealed: boolean, kid: string): string {
    if (!isSealed) return stored;
    if (this.key === undefined) {
      throw new Error(
        'Signing keys are encrypted: set AUTH_KEY_ENCRYPTION_KEY to the key they were sealed with',
      );
    }
    const [prefix, iv, tag, ciphertext] = stored.split('.');
    if (prefix !== PREFIX || iv === undefined || tag === undefined || ciphertext === undefined) {
      throw new Error('Stored signing key has an unknown format');
    }
    const decipher = createDecipheriv(ALGORITHM, this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(kid, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    try {
      return Buffer.concat([
        decipher.update(Buffer.from(ciphertext, 'base64url')),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new Error(
        'Cannot decrypt a signing key: AUTH_KEY_ENCRYPTION_KEY differs from the one it was sealed with',
      );
    }
  }
}

function encodePart(part: string | Buffer): string {
  return typeof part === 'string' ? part : part.toString('base64url');
}

function decodeKey(material: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(material)
    ? Buffer.from(material, 'hex')
    : Buffer.from(material, 'base64');
  if (key.length !== 32) throw new Error('AUTH_KEY_ENCRYPTION_KEY must be 32 bytes');
  return key;
}
