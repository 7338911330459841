import {
  type ArgumentsHost,
  BadRequestException,
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import { type AbstractHttpAdapter, BaseExceptionFilter } from '@nestjs/core';
import { type Observable, throwError } from 'rxjs';

import { isRpcError, MessageHeaders, type RpcError } from '@relay/contracts';

import { recordRpcStatus } from '../call-context/call-context';
import { continueRequestId } from '../call-context/trace-context';
import { AuthError } from './auth.error';

const REASON: Record<AuthError['status'], string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  503: 'Service Unavailable',
};

// Nest answers a body Express's JSON parser refused with JSON.parse's message, which on V8 quotes the
// text around the error (`Unexpected token 'h', ..."password":hunter2"... is not valid JSON`): a
// password or token in that body would come back in the 400 (docs/api.md: no answer contains one)
const QUOTED_JSON_TEXT = / is not valid JSON$/;

/**
 * The one error boundary for both transports. HTTP: `AuthError` → 401 / 403 / 503 with
 * `WWW-Authenticate` (RFC 6750 §3) and `{statusCode, error, message}`, other errors as Nest does.
 * NATS: any error → `{status, message, reason?}`, never Nest's "Internal server error" shape.
 * `AuthModule` installs it as an `APP_FILTER`.
 */
@Catch()
export class TransportExceptionFilter extends BaseExceptionFilter {
  private readonly logger = new Logger(TransportExceptionFilter.name);

  override catch(exception: unknown, host: ArgumentsHost): Observable<never> | void {
    if (host.getType() === 'rpc') {
      const error = this.toRpcError(exception);
      recordRpcStatus(error.status);
      return throwError(() => error);
    }
    if (host.getType() !== 'http') return;
    const response = host.switchToHttp().getResponse<unknown>();
    const adapter = this.httpAdapterHost?.httpAdapter;
    if (adapter === undefined) return super.catch(exception, host);
    answerRequestId(adapter, host.switchToHttp().getRequest<unknown>(), response);
    const challenge = wwwAuthenticate(exception);
    if (challenge !== undefined) adapter.setHeader(response, 'WWW-Authenticate', challenge);
    if (exception instanceof BadRequestException && QUOTED_JSON_TEXT.test(exception.message)) {
      return super.catch(new BadRequestException('Body is not valid JSON'), host);
    }
    if (exception instanceof NotFoundException) {
      return super.catch(
        withoutQueryString(exception, adapter, host.switchToHttp().getRequest<unknown>()),
        host,
      );
    }
    if (!(exception instanceof AuthError)) return super.catch(exception, host);
    const { status, message } = exception;
    adapter.reply(response, { statusCode: status, error: REASON[status], message }, status);
  }

  private toRpcError(exception: unknown): RpcError {
    if (exception instanceof AuthError) return { status: exception.status, message: exception.message };
    if (exception instanceof HttpException) return fromHttpException(exception);
    const inner = rpcExceptionError(exception);
    if (isRpcError(inner)) return pickRpcError(inner);
    this.logger.error(
      exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
    );
    return { status: 500, message: 'Internal server error' };
  }
}

// Nest answers a request no route matches with "Cannot GET <url>", query string included, and a query
// string may carry a token (`?access_token=`, which Relay never reads): no response may contain one
// (CONTRACT), so the answer names the path alone
function withoutQueryString(
  exception: NotFoundException,
  adapter: AbstractHttpAdapter,
  request: unknown,
): NotFoundException {
  const url = String(adapter.getRequestUrl(request) ?? '');
  const method = String(adapter.getRequestMethod(request));
  const queryAt = url.indexOf('?');
  if (queryAt < 0 || exception.message !== `Cannot ${method} ${url}`) return exception;
  return new NotFoundException(`Cannot ${method} ${url.slice(0, queryAt)}`);
}

/**
 * CONTRACT: every HTTP response carries `x-request-id`. The call context answers it for every request
 * it begins; an error raised before that (Express decodes a path's parameters, and parses a body,
 * before any middleware of ours runs) gets the caller's valid id, else a new one, here.
 */
function answerRequestId(adapter: AbstractHttpAdapter, request: unknown, response: unknown): void {
  const answered = (response as { getHeader?(name: string): unknown }).getHeader?.(MessageHeaders.requestId);
  if (answered !== undefined) return;
  const sent = (request as { headers?: Partial<Record<string, string | string[]>> }).headers?.[
    MessageHeaders.requestId
  ];
  adapter.setHeader(
    response,
    MessageHeaders.requestId,
    continueRequestId(typeof sent === 'string' ? sent : undefined),
  );
}

function wwwAuthenticate(exception: unknown): string | undefined {
  const status =
    exception instanceof AuthError || exception instanceof HttpException ? statusOf(exception) : undefined;
  // every 401, a missing token's too: the contract names one challenge for all of them (RFC 6750 §3.1
  // only advises against an error code when no credentials came, it does not forbid one)
  if (status === HttpStatus.UNAUTHORIZED) return 'Bearer error="invalid_token"';
  if (status === HttpStatus.FORBIDDEN) return 'Bearer error="insufficient_scope"';
  return undefined;
}

function statusOf(exception: AuthError | HttpException): number {
  return exception instanceof AuthError ? exception.status : exception.getStatus();
}

function fromHttpException(exception: HttpException): RpcError {
  const response = exception.getResponse();
  const body = typeof response === 'object' && response !== null ? (response as Record<string, unknown>) : {};
  const message = Array.isArray(body['message']) ? body['message'].join('; ') : body['message'];
  return {
    status: exception.getStatus() as RpcError['status'],
    message: typeof message === 'string' ? message : exception.message,
    ...(typeof body['reason'] === 'string' ? { reason: body['reason'] } : {}),
  };
}

function rpcExceptionError(exception: unknown): unknown {
  if (typeof exception === 'object' && exception !== null && 'getError' in exception) {
    const getError = (exception as { getError: unknown }).getError;
    if (typeof getError === 'function') return (getError as () => unknown).call(exception);
  }
  return exception;
}

function pickRpcError(error: RpcError): RpcError {
  return {
    status: error.status,
    ...(typeof error.message === 'string' ? { message: error.message } : {}),
    ...(typeof error.reason === 'string' ? { reason: error.reason } : {}),
  };
}
