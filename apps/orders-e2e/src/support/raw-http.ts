import { request } from 'node:http';

// bodies over this wait up to EARLY_ANSWER_WAIT_MS for an answer to their headers alone
const EARLY_ANSWER_BYTES = 64 * 1024;
const EARLY_ANSWER_WAIT_MS = 1000;

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
 * declared length) and close the connection with the body unread, as Fastify does: the client then
 * gets EPIPE or a reset, and `fetch` throws the answer away with it whenever the reset comes first.
 * Here a large body is held back until the headers have had time to draw such an answer.
 */
export function rawRequest(
  method: 'POST' | 'PUT',
  url: string,
  body: string,
  options: { token?: string; contentType?: string; timeoutMs?: number } = {},
): Promise<RawAnswer> {
  const length = Buffer.byteLength(body);
  const headers: Record<string, string | number> = {
    'content-type': options.contentType ?? 'application/json',
    'content-length': length,
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
    // a large body waits for an early answer before it goes, as curl's `Expect: 100-continue` does
    if (length <= EARLY_ANSWER_BYTES) {
      outgoing.end(body);
      return;
    }
    outgoing.flushHeaders();
    setTimeout(() => {
      if (!hasAnswer && !outgoing.destroyed) outgoing.end(body);
    }, EARLY_ANSWER_WAIT_MS);
  });
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
