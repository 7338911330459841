import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { Observable } from 'rxjs';

import { MessageHeaders } from '@relay/contracts';

import { callCarrier, readAuthentication } from './call-carrier';
import { CallContext } from './call-context';

/**
 * Runs each HTTP request / NATS message handler inside a `CallContext` (token, trace, request id),
 * so outgoing `RelayNatsClient` calls carry them on. Register as `APP_INTERCEPTOR`.
 */
@Injectable()
export class CallContextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const carrier = callCarrier(context);
    const authentication = readAuthentication(carrier.target);
    const incoming = {
      ...authentication,
      traceparent: single(carrier.header(MessageHeaders.traceparent)),
      requestId: single(carrier.header(MessageHeaders.requestId)),
    };
    return new Observable((subscriber) =>
      CallContext.run(incoming, () => next.handle().subscribe(subscriber)),
    );
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
