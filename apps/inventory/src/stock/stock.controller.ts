import { BadRequestException, Body, Controller, Get, NotFoundException, Param, Put } from '@nestjs/common';

import { Roles } from '@relay/auth';
import { SKU_PATTERN, type StockLevel } from '@relay/contracts';

import { SetStockDto } from './dto/set-stock.dto';
import { StockService } from './stock.service';

/** HTTP stock API (CONTRACT.md, inventory); every route needs a Bearer token (global guard). */
@Controller('inventory')
export class StockController {
  constructor(private readonly stock: StockService) {}

  @Get(':sku')
  async find(@Param('sku') sku: string): Promise<StockLevel> {
    const level = await this.stock.find(sku);
    if (level === undefined) throw new NotFoundException(`Unknown sku ${sku}`);
    return level;
  }

  @Roles('admin')
  @Put(':sku')
  set(@Param('sku') sku: string, @Body() body: SetStockDto): Promise<StockLevel> {
    if (!SKU_PATTERN.test(sku)) {
      throw new BadRequestException('sku must be 1..64 letters, digits, ".", "_" or "-"');
    }
    return this.stock.set(sku, body.available);
  }
}
