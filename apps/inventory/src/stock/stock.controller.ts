import { BadRequestException, Body, Controller, Get, NotFoundException, Param, Put } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiParam } from '@nestjs/swagger';

import { Roles, Scopes } from '@relay/auth';
import { SKU_PATTERN, type StockLevel, UserScopes } from '@relay/contracts';
import { ApiBearerToken, ErrorResponse } from '@relay/observability';

import { SetStockDto } from './dto/set-stock.dto';
import { StockLevelResponse } from './dto/stock-level.response';
import { StockService } from './stock.service';

/** HTTP stock API (CONTRACT.md, inventory); every route needs a Bearer token (global guard). */
@ApiBearerToken()
@ApiParam({ name: 'sku', schema: { type: 'string', pattern: SKU_PATTERN.source }, example: 'sku-apple' })
@Controller('inventory')
export class StockController {
  constructor(private readonly stock: StockService) {}

  @Scopes(UserScopes.inventoryRead)
  @Get(':sku')
  @ApiOkResponse({ type: StockLevelResponse })
  @ApiNotFoundResponse({ type: ErrorResponse, description: 'Unknown sku' })
  async find(@Param('sku') sku: string): Promise<StockLevel> {
    // the answer never names the path: it may be a refresh token or password pasted into the URL,
    // and many of those are sku-shaped
    const level = SKU_PATTERN.test(sku) ? await this.stock.find(sku) : undefined;
    if (level === undefined) throw new NotFoundException('Unknown sku');
    return level;
  }

  @Roles('admin')
  @Scopes(UserScopes.inventoryWrite)
  @Put(':sku')
  @ApiOkResponse({ type: StockLevelResponse, description: 'The new level (admin only)' })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'Invalid sku or body' })
  set(@Param('sku') sku: string, @Body() body: SetStockDto): Promise<StockLevel> {
    if (!SKU_PATTERN.test(sku)) {
      throw new BadRequestException('sku must be 1..64 letters, digits, ".", "_" or "-"');
    }
    return this.stock.set(sku, body.available);
  }
}
