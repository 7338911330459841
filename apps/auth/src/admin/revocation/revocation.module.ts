import { Module } from '@nestjs/common';

import { RevocationPublisher } from './revocation.publisher';

@Module({ providers: [RevocationPublisher], exports: [RevocationPublisher] })
export class RevocationModule {}
