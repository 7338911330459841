import { type DestinationStream, pino } from 'pino';

/** What a batch is written to: one `write` per batch. */
export interface LineSink {
  write(data: string): unknown;
}

/**
 * A pino destination that gathers the lines logged in one turn of the event loop and writes them
 * with one `write` on the next (`setImmediate`): an access line per request and message cost a
 * `write(2)` each, and on a busy service one syscall now carries every line of a turn. Nothing waits
 * longer than the turn: an idle service's line leaves as soon as its turn ends, as before.
 * {@link flush} writes what is gathered at once (process exit).
 */
export class BatchedDestination implements DestinationStream {
  private pending: string[] = [];

  constructor(private readonly sink: LineSink) {}

  write(line: string): void {
    this.pending.push(line);
    if (this.pending.length === 1) setImmediate(this.flush);
  }

  /** Writes the gathered lines now; nothing when there are none. */
  readonly flush = (): void => {
    if (this.pending.length === 0) return;
    const batch = this.pending.join('');
    this.pending = [];
    this.sink.write(batch);
  };
}

let stdout: BatchedDestination | undefined;

/**
 * The process's stdout for JSON lines: one {@link BatchedDestination} shared by every logger, over
 * pino's synchronous sonic-boom (a batch is written whole before the next turn runs; a full pipe is
 * retried, not dropped). Lines still gathered when the process exits are written by its `exit` event.
 */
export function batchedStdout(): BatchedDestination {
  if (stdout === undefined) {
    const created = new BatchedDestination(pino.destination({ dest: 1, sync: true }));
    process.on('exit', created.flush);
    stdout = created;
  }
  return stdout;
}
