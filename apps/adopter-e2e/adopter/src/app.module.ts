import { Module } from '@nestjs/common';
import { AuthModule } from '@relay/auth';

import { ShopController } from './shop.controller';

const env = (name: string): string => process.env[name] ?? '';

@Module({
  imports: [
    // every HTTP route and NATS handler now needs a valid access token unless it is @Public()
    AuthModule.forRoot({
      issuer: env('AUTH_ISSUER'),
      audience: 'shop',
      jwksUri: env('AUTH_JWKS_URI'),
      natsUrl: env('NATS_URL'),
      serviceName: 'shop',
    }),
  ],
  controllers: [ShopController],
})
export class AppModule {}
