import { Module } from '@nestjs/common';

import { RevocationOutboxRepository } from './revocation-outbox.repository';
import { RevocationPublisher } from './revocation.publisher';

@Module({ providers: [RevocationPublisher, RevocationOutboxRepository], exports: [RevocationPublisher] })
export class RevocationModule {}
