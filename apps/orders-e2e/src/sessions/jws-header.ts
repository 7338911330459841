/** The JOSE header of a compact JWS (decoded, never verified). */
export interface JwsHeader {
  alg: string;
  kid: string;
  typ?: string;
  [member: string]: unknown;
}

/** A JWKS entry as published; private members are listed only so a spec can prove they are absent. */
export interface PublicJwk {
  kid: string;
  kty: string;
  alg?: string;
  use?: string;
  [member: string]: unknown;
}

export function decodeHeader(token: string): JwsHeader {
  const [header] = token.split('.');
  return JSON.parse(Buffer.from(header ?? '', 'base64url').toString('utf8')) as JwsHeader;
}
