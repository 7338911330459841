import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  ForbiddenException,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  NotFoundException,
  Param,
  Post,
  Query,
  Res,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiBadRequestResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiQuery,
  ApiServiceUnavailableResponse,
  getSchemaPath,
} from '@nestjs/swagger';

import type { FastifyReply } from 'fastify';

import { CurrentPrincipal, type Principal, Roles, Scopes } from '@relay/auth';
import { IDEMPOTENCY_KEY_HEADER, UserScopes } from '@relay/contracts';
import { ApiBearerToken, ErrorResponse } from '@relay/observability';

import { CreateOrderDto } from './dto/create-order.dto';
import {
  OrderNotPlacedResponse,
  OrderRejectedResponse,
  OrderResponse,
  toOrderResponse,
} from './dto/order.response';
import type { Order } from './order';
import { OrdersService } from './orders.service';

const INVENTORY_REFUSED = 'Inventory refused the caller; the order was not placed';

// IETF httpapi-idempotency-key-header: an opaque string; bounded and printable here.
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
// a page holds at most this many orders; a client that names no limit gets every order (CONTRACT)
const PAGE_LIMIT = 1000;
// never repeats the value: a client may have pasted anything there
const UNKNOWN_CURSOR = 'after must be an order id of yours, from the page before';

/** HTTP order API (CONTRACT.md, orders); every route needs a Bearer token (global guard). */
@ApiBearerToken()
@ApiExtraModels(OrderNotPlacedResponse)
@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Roles('customer', 'admin')
  @Scopes(UserScopes.ordersWrite)
  @Post()
  @HttpCode(HttpStatus.CREATED)
  @ApiHeader({
    name: IDEMPOTENCY_KEY_HEADER,
    required: false,
    description:
      'A repeat with the same key by the same user returns the first answer; stock is reserved once (1..255 printable ASCII characters)',
  })
  @ApiCreatedResponse({ type: OrderResponse, description: 'Placed: every line is reserved (`confirmed`)' })
  @ApiConflictResponse({
    type: OrderRejectedResponse,
    description: 'Rejected: not enough stock of some line',
  })
  @ApiServiceUnavailableResponse({
    description:
      'Not placed: inventory did not answer within `ORDERS_RPC_TIMEOUT_MS` (the order is kept as `failed`, ' +
      'nothing stays reserved), or the first request with this Idempotency-Key still runs (`pending`); ' +
      'or the revocation list is not in sync yet',
    schema: {
      oneOf: [{ $ref: getSchemaPath(OrderNotPlacedResponse) }, { $ref: getSchemaPath(ErrorResponse) }],
    },
  })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: CreateOrderDto,
    @Headers(IDEMPOTENCY_KEY_HEADER) idempotencyKey?: string,
  ): Promise<OrderResponse> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new BadRequestException('Idempotency-Key must be 1..255 printable ASCII characters');
    }
    return answer(await this.orders.create(principal, body.items, idempotencyKey));
  }

  @Scopes(UserScopes.ordersRead)
  @Get()
  @ApiQuery({
    name: 'limit',
    required: false,
    description: `1..${PAGE_LIMIT}: a page of at most that many; without it, every order`,
  })
  @ApiQuery({
    name: 'after',
    required: false,
    description: "An order id of the page before: the caller's orders listed after it",
  })
  @ApiOkResponse({
    type: [OrderResponse],
    description:
      'The caller\'s orders, newest first (with `limit`, a page of them; `Link: <…>; rel="next"` names ' +
      'the next page when older orders remain)',
  })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'A limit out of range, or an unknown `after`' })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query('limit') limitParam: unknown,
    @Query('after') after: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<OrderResponse[]> {
    const limit = pageLimit(limitParam);
    if (after !== undefined && typeof after !== 'string') throw new BadRequestException(UNKNOWN_CURSOR);
    const page = await this.orders.pageForCaller(principal, {
      limit,
      ...(after === undefined ? {} : { after }),
    });
    if (page === undefined) throw new BadRequestException(UNKNOWN_CURSOR);
    const last = page.orders.at(-1);
    if (page.hasMore && limit !== undefined && last !== undefined) {
      void reply.header('link', `</orders?limit=${limit}&after=${last.id}>; rel="next"`);
    }
    return page.orders.map(toOrderResponse);
  }

  @Scopes(UserScopes.ordersRead)
  @Get(':id')
  @ApiOkResponse({ type: OrderResponse })
  @ApiNotFoundResponse({
    type: ErrorResponse,
    description: "No such order, or another user's (unless the caller is admin)",
  })
  async find(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<OrderResponse> {
    const order = await this.orders.findForCaller(principal, id);
    // 404 also for another user's order: its existence is not disclosed (OWASP API1 BOLA)
    if (order === undefined) throw new NotFoundException('Order not found');
    return toOrderResponse(order);
  }
}

function pageLimit(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const limit = typeof value === 'string' && /^[1-9][0-9]{0,3}$/.test(value) ? Number(value) : 0;
  if (limit < 1 || limit > PAGE_LIMIT) throw new BadRequestException(`limit must be 1..${PAGE_LIMIT}`);
  return limit;
}

function answer(order: Order): OrderResponse {
  switch (order.status) {
    case 'confirmed':
      return toOrderResponse(order);
    case 'rejected':
      throw new ConflictException({ status: 'rejected', reason: order.reason ?? 'insufficient_stock' });
    case 'failed':
      // a repeat of a request inventory refused answers as the first one did
      if (order.reason === 'inventory_unauthorized') throw new UnauthorizedException(INVENTORY_REFUSED);
      if (order.reason === 'inventory_forbidden') throw new ForbiddenException(INVENTORY_REFUSED);
      throw new ServiceUnavailableException({
        status: 'failed',
        id: order.id,
        reason: order.reason,
        message:
          order.reason === 'inventory_timeout'
            ? 'Inventory did not answer in time; the order was not placed and nothing is reserved'
            : 'Inventory could not take the order now; it was not placed and nothing is reserved',
      });
    case 'pending':
      throw new ServiceUnavailableException({
        status: 'pending',
        id: order.id,
        message: 'The first request with this Idempotency-Key is still running; retry shortly',
      });
  }
}
