/** An answer to a raw request: status, content type and the body as text (parsed when JSON). */
export interface RawAnswer {
  status: number;
  contentType: string;
  text: string;
  json: unknown;
}

/** Sends `body` exactly as given (malformed JSON, huge payloads): what a careless or hostile client sends. */
export async function rawRequest(
  method: 'POST' | 'PUT',
  url: string,
  body: string,
  options: { token?: string; contentType?: string; timeoutMs?: number } = {},
): Promise<RawAnswer> {
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? 'application/json',
  };
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  const response = await fetch(url, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text, json };
}
