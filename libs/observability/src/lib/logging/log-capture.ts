import { Writable } from 'node:stream';

/** A log destination that keeps what was written, for specs: the raw text and the parsed lines. */
export class LogCapture extends Writable {
  private text = '';

  override _write(
    chunk: Buffer | string,
    _encoding: BufferEncoding,
    done: (error?: Error | null) => void,
  ): void {
    this.text += chunk.toString();
    done();
  }

  /** Everything written so far. */
  get raw(): string {
    return this.text;
  }

  /** Every line written so far, parsed as JSON (a line that is not JSON fails the spec). */
  lines(): Record<string, unknown>[] {
    return this.text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** Forgets what was written. */
  clear(): void {
    this.text = '';
  }
}
