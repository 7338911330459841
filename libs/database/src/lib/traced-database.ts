import { type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

import type { Database, Queryable } from './database';

const tracer = trace.getTracer('@relay/database');

/**
 * The database with an OpenTelemetry client span per statement (`db.system.name`, `db.operation.name`,
 * `db.query.text`: the parameterised SQL, never its values), a child of the running call's span.
 * Without an SDK the spans are the API's no-ops.
 */
export function tracedDatabase(database: Database): Database {
  return {
    kind: database.kind,
    query: (sql, params) => traced(sql, () => database.query(sql, params)),
    transaction: (work) => database.transaction((tx) => work(tracedQueryable(tx))),
    ping: () => database.ping(),
    close: () => database.close(),
  };
}

function tracedQueryable(tx: Queryable): Queryable {
  return { query: (sql, params) => traced(sql, () => tx.query(sql, params)) };
}

function traced<T>(sql: string, run: () => Promise<T>): Promise<T> {
  const operation = operationOf(sql);
  const span = tracer.startSpan(operation, {
    kind: SpanKind.CLIENT,
    attributes: { 'db.system.name': 'postgresql', 'db.operation.name': operation, 'db.query.text': sql },
  });
  if (!span.isRecording()) return run();
  return run().then(
    (result) => {
      span.end();
      return result;
    },
    (error: unknown) => fail(span, error),
  );
}

function fail(span: Span, error: unknown): never {
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' });
  span.end();
  throw error;
}

// the statement's first keyword (SELECT, INSERT, WITH, …): the span's name, as the conventions advise
function operationOf(sql: string): string {
  const match = /^\s*([A-Za-z]+)/.exec(sql);
  return match === null ? 'query' : match[1].toUpperCase();
}
