/** The parts of an access token the specs look at (decoded, never verified). */
export interface TokenClaims {
  sub: string;
  jti: string;
  roles?: string[];
  [claim: string]: unknown;
}

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const decode = (segment: string): unknown => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));

function segments(token: string): [string, string, string] {
  const [header, payload, signature] = token.split('.');
  if (header === undefined || payload === undefined || signature === undefined) {
    throw new Error('not a compact JWS');
  }
  return [header, payload, signature];
}

export function decodeClaims(token: string): TokenClaims {
  return decode(segments(token)[1]) as TokenClaims;
}

/** Same header and signature, claims raised to admin: a forgery only signature checking catches. */
export function withTamperedClaims(token: string): string {
  const [header, payload, signature] = segments(token);
  const claims = decode(payload) as TokenClaims;
  return `${header}.${encode({ ...claims, roles: ['admin'] })}.${signature}`;
}

/** One payload character flipped, signature kept. */
export function withFlippedPayloadChar(token: string): string {
  const [header, payload, signature] = segments(token);
  const index = Math.floor(payload.length / 2);
  const flipped = payload[index] === 'A' ? 'B' : 'A';
  return `${header}.${payload.slice(0, index)}${flipped}${payload.slice(index + 1)}.${signature}`;
}

/** The same claims under `alg: none` with an empty signature (RFC 7519 §6 unsecured JWT). */
export function asUnsecuredToken(token: string): string {
  const [header, payload] = segments(token);
  const original = decode(header) as Record<string, unknown>;
  return `${encode({ ...original, alg: 'none' })}.${payload}.`;
}
