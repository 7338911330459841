import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

/** One request as `sendRawRequest` sends it. */
export interface RawRequestOptions {
  /** Default: GET. */
  method?: string;
  /** A list value goes out as one header line per value (fetch would join them into one). */
  headers?: Record<string, string | string[]>;
  body?: string;
}

/** The answer to a raw request, body as text. */
export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Sends one HTTP request with node:http, so a test can repeat a header as a client may. */
export function sendRawRequest(url: string, options: RawRequestOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      { method: options.method ?? 'GET', headers: options.headers },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}
