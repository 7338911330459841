/** What `readRequestHeader` needs of a request: Node's, Express's (both are one) or Fastify's (`raw`). */
export interface HeaderBearingRequest {
  headers: Record<string, string | string[] | undefined>;
  rawHeaders?: readonly string[];
  raw?: { rawHeaders?: readonly string[] };
}

/**
 * A request header (`name` in lower case) as it was sent: its value, or every value when the request
 * carried it more than once. Node keeps only the first `Authorization` (and others it may not join) in
 * `headers`, so a proxy that reads the last one and the app would judge different credentials; a
 * caller refuses the list (`readBearerToken` does).
 */
export function readRequestHeader(
  request: HeaderBearingRequest,
  name: string,
): string | string[] | undefined {
  const value = request.headers[name];
  if (typeof value !== 'string') return value;
  const raw = request.raw?.rawHeaders ?? request.rawHeaders;
  if (raw === undefined) return value;
  let values: string[] | undefined;
  for (let index = 0; index < raw.length; index += 2) {
    const rawName = raw[index];
    if (rawName.length !== name.length || rawName.toLowerCase() !== name) continue;
    (values ??= []).push(raw[index + 1]);
  }
  return values !== undefined && values.length > 1 ? values : value;
}
