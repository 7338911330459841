import { Controller, Get } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { CurrentPrincipal, type Principal, Public, RelayNatsClient } from '@relay/auth';

/** The shop's own routes and handlers: nothing in here is about authentication but the decorators. */
@Controller()
export class ShopController {
  constructor(private readonly nats: RelayNatsClient) {}

  @Public()
  @Get('health')
  health(): { status: string } {
    return { status: 'ok' };
  }

  @Get('me')
  me(@CurrentPrincipal() principal: Principal): { subject: string } {
    return { subject: principal.subject };
  }

  /** Asks the warehouse over NATS, on the caller's behalf. */
  @Get('stock')
  stock(): Promise<unknown> {
    return this.nats.send('warehouse.stock', { sku: 'sku-1' });
  }

  @MessagePattern('shop.me')
  meOverNats(@CurrentPrincipal() principal: Principal): { subject: string } {
    return { subject: principal.subject };
  }

  @MessagePattern('shop.stock')
  stockOverNats(): Promise<unknown> {
    return this.nats.send('warehouse.stock', { sku: 'sku-1' });
  }
}
