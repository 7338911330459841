import { Module } from '@nestjs/common';

import { KeysModule } from '../keys/keys.module';
import { LoginAttemptsModule } from '../sessions/login-attempts.module';
import { UsersModule } from '../users/users.module';
import { ClientCredentialsGrant } from './grants/client-credentials.grant';
import { TokenExchangeGrant } from './grants/token-exchange.grant';
import { OAuthTokenController } from './oauth-token.controller';
import { ServiceClientsRegistry } from './service-clients.registry';
import { TokenIssuer } from './token-issuer.service';

@Module({
  imports: [KeysModule, UsersModule, LoginAttemptsModule],
  controllers: [OAuthTokenController],
  providers: [TokenIssuer, ServiceClientsRegistry, ClientCredentialsGrant, TokenExchangeGrant],
  exports: [TokenIssuer],
})
export class TokensModule {}
