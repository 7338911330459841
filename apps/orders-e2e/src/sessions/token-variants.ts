// P-256 group order n (SEC 2 §2.4.2): an ECDSA signature (r, s) also verifies as (r, n − s)
const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function split(token: string): [string, string, string] {
  const [header = '', payload = '', signature = ''] = token.split('.');
  return [header, payload, signature];
}

/** The same ES256 token with its signature re-encoded as (r, n − s): different bytes, still a valid signature. */
export function withMalleatedSignature(token: string): string {
  const [header, payload, signature] = split(token);
  const raw = Buffer.from(signature, 'base64url');
  const s = BigInt(`0x${raw.subarray(32).toString('hex')}`);
  const flipped = Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex');
  return `${header}.${payload}.${Buffer.concat([raw.subarray(0, 32), flipped]).toString('base64url')}`;
}

/**
 * The same token with the unused low bits of the signature's last base64url character set: a
 * lenient decoder reads the very same signature bytes from a different string.
 */
export function withNonCanonicalSignatureEnding(token: string): string {
  const [header, payload, signature] = split(token);
  const last = BASE64URL.indexOf(signature.slice(-1));
  // 64 bytes take 86 characters, whose last one carries 2 data bits and 4 padding bits
  const lenient = BASE64URL.charAt(last | 0b0101);
  return `${header}.${payload}.${signature.slice(0, -1)}${lenient}`;
}
