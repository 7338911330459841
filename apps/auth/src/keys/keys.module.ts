import { Module } from '@nestjs/common';

import { SigningKeysRepository } from './signing-keys.repository';
import { SigningKeysService } from './signing-keys.service';
import { WellKnownController } from './well-known.controller';

@Module({
  controllers: [WellKnownController],
  providers: [SigningKeysService, SigningKeysRepository],
  exports: [SigningKeysService],
})
export class KeysModule {}
