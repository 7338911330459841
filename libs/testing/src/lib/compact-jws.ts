import { type KeyObject, sign } from 'node:crypto';

/** base64url of a string or bytes. */
export function base64url(input: string | Uint8Array): string {
  return Buffer.from(input).toString('base64url');
}

/**
 * Signs `header.payload` with ES256 exactly as given (raw JSON strings allowed), so tests can build
 * tokens a well-behaved library would refuse to produce (duplicate claims, `crit`, `b64:false` …).
 */
export function signCompactEs256(
  header: string | Record<string, unknown>,
  payload: string | Record<string, unknown>,
  privateKey: KeyObject,
): string {
  const encode = (part: string | Record<string, unknown>): string =>
    base64url(typeof part === 'string' ? part : JSON.stringify(part));
  const signingInput = `${encode(header)}.${encode(payload)}`;
  const signature = sign('sha256', Buffer.from(signingInput), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${base64url(signature)}`;
}
