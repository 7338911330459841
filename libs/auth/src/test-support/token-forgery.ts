import {
  createCipheriv,
  createHash,
  createHmac,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';

import { base64url } from '@relay/testing';

/** How the token table forges: raw HMACs, segment surgery, ECDSA malleability and a real JWE. */

// P-256 group order n (SEC 2 §2.4.2)
export const P256_N = 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551';

export function hs256(header: object, payload: object, secret: Buffer | string): string {
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

export function parts(token: string): [string, string, string] {
  const [header, payload, signature] = token.split('.');
  return [header, payload, signature];
}

export function decode(segment: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(segment, 'base64url').toString()) as Record<string, unknown>;
}

/**
 * A real compact JWE (ECDH-ES, A256GCM; RFC 7518 §4.6) of `plaintext`, encrypted to `recipient`: what
 * an attacker makes with nothing but the JWKS's public key (sign/encrypt confusion, SECURITY T11).
 */
export function encryptTo(recipient: KeyObject, kid: string, plaintext: string): string {
  const ephemeral = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = ephemeral.publicKey.export({ format: 'jwk' });
  const header = base64url(JSON.stringify({ alg: 'ECDH-ES', enc: 'A256GCM', kid, epk: { kty, crv, x, y } }));
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient });
  const lengthPrefixed = (value: Buffer): Buffer => Buffer.concat([uint32(value.length), value]);
  // Concat KDF (NIST SP 800-56A) with one round of SHA-256: a 256-bit content key for A256GCM
  const key = createHash('sha256')
    .update(
      Buffer.concat([
        uint32(1),
        shared,
        lengthPrefixed(Buffer.from('A256GCM')),
        uint32(0),
        uint32(0),
        uint32(256),
      ]),
    )
    .digest();
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(header));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${header}..${base64url(iv)}.${base64url(ciphertext)}.${base64url(cipher.getAuthTag())}`;
}

function uint32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes;
}

export function malleate(token: string): string {
  const [header, payload, signature] = parts(token);
  const bytes = Buffer.from(signature, 'base64url');
  const s = BigInt(`0x${bytes.subarray(32).toString('hex')}`);
  const highS = (BigInt(`0x${P256_N}`) - s).toString(16).padStart(64, '0');
  return `${header}.${payload}.${base64url(Buffer.concat([bytes.subarray(0, 32), Buffer.from(highS, 'hex')]))}`;
}
