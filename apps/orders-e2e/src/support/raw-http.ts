import { request } from 'node:http';

const UPLOAD_CHUNK_BYTES = 64 * 1024;

/** An answer to a raw request: status, content type and the body as text (parsed when JSON). */
export interface RawAnswer {
  status: number;
  contentType: string;
  text: string;
  json: unknown;
}

/**
 * Sends `body` exactly as given (malformed JSON, huge payloads): what a careless or hostile client sends.
 *
 * Over `node:http` rather than `fetch`: a server may answer before it has read the body (413 on the
 * declared length) and close the connection, as Fastify does; the rest of the upload then fails with
 * EPIPE or ECONNRESET. `fetch` throws the answer away with it, depending on which comes first;
 * here the upload stops once an answer has begun, and the answer is read to its end.
 */
export function rawRequest(
  method: 'POST' | 'PUT',
  url: string,
  body: string,
  options: { token?: string; contentType?: string; timeoutMs?: number } = {},
): Promise<RawAnswer> {
  const headers: Record<string, string | number> = {
    'content-type': options.contentType ?? 'application/json',
    'content-length': Buffer.byteLength(body),
  };
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  return new Promise((resolve, reject) => {
    let hasAnswer = false;
    const outgoing = request(url, { method, headers, timeout: options.timeoutMs ?? 15_000 }, (response) => {
      hasAnswer = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      // a connection closed mid-answer ends nothing: say so rather than wait for the timeout
      response.on('close', () => {
        if (!response.complete) reject(new Error(`the answer from ${url} was cut short`));
      });
      response.on('end', () => {
        // an upload cut off by an early answer is never finished: drop it
        if (!outgoing.writableFinished) outgoing.destroy();
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: response.statusCode ?? 0,
          contentType: String(response.headers['content-type'] ?? ''),
          text,
          json: parseJson(text),
        });
      });
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer from ${url} in time`)));
    outgoing.on('error', (error) => {
      if (!hasAnswer) reject(error);
    });
    // the body goes out in chunks, the answer looked for between them: an early answer stops the
    // upload before the server's close can fail it
    const bytes = Buffer.from(body, 'utf8');
    const sendFrom = (offset: number): void => {
      if (hasAnswer || outgoing.destroyed) return;
      if (offset >= bytes.length) {
        outgoing.end();
        return;
      }
      outgoing.write(bytes.subarray(offset, offset + UPLOAD_CHUNK_BYTES), () =>
        setImmediate(() => sendFrom(offset + UPLOAD_CHUNK_BYTES)),
      );
    };
    sendFrom(0);
  });
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
