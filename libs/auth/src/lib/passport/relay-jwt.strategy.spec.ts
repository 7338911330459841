import { randomUUID } from 'node:crypto';

import { Controller, Get, type INestApplication, Injectable, Req, UseGuards } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import { Test } from '@nestjs/testing';
import { Strategy } from 'passport';

import { createTestIssuer, type JwksServer, NatsTestClient, sendRawRequest, serveJwks } from '@relay/testing';

import { NATS_URL } from '../../test-support/probe-app';
import { deleteBucket, putRevocations, uniqueBucketName } from '../../test-support/revocation-bucket';
import { buildTokenCases, revocationFixtures } from '../../test-support/token-cases';
import type { Principal } from '../access-token/access-token';
import { AccessTokenVerifier } from '../access-token/access-token-verifier';
import { AuthModule } from '../auth.module';
import { natsMicroserviceOptions } from '../nats/nats-microservice-options';
import { CallContext } from '../call-context/call-context';
import { CurrentPrincipal } from '../decorators/current-principal.decorator';
import { Roles } from '../decorators/roles.decorator';
import { AccessTokenGuard } from '../guards/access-token.guard';
import { RolesGuard } from '../guards/roles.guard';
import { AccessTokenStrategy } from './access-token.strategy';
import { RELAY_JWT_STRATEGY, RelayJwtStrategy } from './relay-jwt.strategy';

const NOW = Math.floor(Date.now() / 1000);
const REFUSED_SUBJECT = 'refused-by-validate';
const seenInValidate: string[] = [];

/** An app's own rule on top of the verdict: its validate() refuses one subject. */
@Injectable()
class PickyJwtStrategy extends PassportStrategy(AccessTokenStrategy, 'picky-jwt') {
  constructor(verifier: AccessTokenVerifier) {
    super(verifier);
  }

  validate(principal: Principal): Principal | false {
    // an app's validate() may call other services as the caller
    seenInValidate.push(CallContext.current()?.token === undefined ? 'no token' : 'token');
    return principal.subject === REFUSED_SUBJECT ? false : principal;
  }
}

/** passport-anonymous's behaviour: anyone passes, as nobody in particular. */
@Injectable()
class AnonymousStrategy extends PassportStrategy(
  class extends Strategy {
    override authenticate(): void {
      this.success({ anonymous: true });
    }
  },
  'anonymous',
) {
  validate(user: unknown): unknown {
    return user;
  }
}

@Controller('verdict')
class VerdictController {
  @Get('guard')
  @UseGuards(AccessTokenGuard)
  guard(@CurrentPrincipal() principal: Principal): { subject: string } {
    return { subject: principal.subject };
  }

  @Get('passport')
  @UseGuards(AuthGuard(RELAY_JWT_STRATEGY))
  passport(
    @Req() request: { user: Principal },
    @CurrentPrincipal() principal: Principal,
  ): { subject: string } {
    // the strategy also records the call like AccessTokenGuard does, so @CurrentPrincipal() works
    return { subject: principal.subject === request.user.subject ? request.user.subject : 'mismatch' };
  }

  @Get('guard/admin')
  @Roles('admin')
  @UseGuards(AccessTokenGuard)
  guardAdmin(@CurrentPrincipal() principal: Principal): { subject: string } {
    return { subject: principal.subject };
  }

  @Get('chain/admin')
  @Roles('admin')
  @UseGuards(AuthGuard(['picky-jwt', 'anonymous']), RolesGuard)
  chainAdmin(@CurrentPrincipal() principal: Principal): { subject: string } {
    return { subject: principal.subject };
  }

  @Get('passport/admin')
  @Roles('admin')
  @UseGuards(AuthGuard(RELAY_JWT_STRATEGY), RolesGuard)
  passportAdmin(@CurrentPrincipal() principal: Principal): { subject: string } {
    return { subject: principal.subject };
  }
}

const RPC_SUBJECT = `passport-${randomUUID().slice(0, 8)}.verdict`;

/** Passport on a NATS handler, as `installGlobalGuard: false` might tempt an app to write it. */
@Controller()
class VerdictRpcController {
  @MessagePattern(RPC_SUBJECT)
  @UseGuards(AuthGuard(RELAY_JWT_STRATEGY))
  verdict(@CurrentPrincipal() principal: Principal): { subject: string } {
    return { subject: principal.subject };
  }
}

describe(RelayJwtStrategy.name, () => {
  const issuer = createTestIssuer();
  const bucket = uniqueBucketName();
  let attackerServer: JwksServer;
  let issuerServer: JwksServer;
  let nats: NatsTestClient;
  let app: NestFastifyApplication;
  const cases = buildTokenCases(issuer, NOW, () => attackerServer.url);

  beforeAll(async () => {
    issuerServer = await issuer.serveJwks();
    attackerServer = await serveJwks(() => ({ keys: [] }));
    nats = await NatsTestClient.connect(NATS_URL);
    await putRevocations(nats, bucket, revocationFixtures(NOW));
    const moduleRef = await Test.createTestingModule({
      imports: [
        AuthModule.forRoot({
          issuer: issuer.issuer,
          audience: 'orders',
          jwksUri: issuerServer.url,
          natsUrl: NATS_URL,
          serviceName: `passport-${randomUUID().slice(0, 8)}`,
          revocationBucket: bucket,
          clock: () => new Date(NOW * 1000),
          // each route names its own guard: the global one would decide before passport does
          installGlobalGuard: false,
        }),
      ],
      controllers: [VerdictController, VerdictRpcController],
      // TransportExceptionFilter comes with AuthModule, guard or no guard
      providers: [RelayJwtStrategy, PickyJwtStrategy, AnonymousStrategy],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    app.connectMicroservice(natsMicroserviceOptions({ url: NATS_URL, name: 'passport-spec' }), {
      inheritAppConfig: true,
    });
    await app.init();
    await app.startAllMicroservices();
    await app.getHttpAdapter().getInstance().ready();
  });

  afterAll(async () => {
    await (app as INestApplication | undefined)?.close();
    await deleteBucket(nats, bucket);
    await nats?.close();
    await issuerServer?.stop();
    await attackerServer?.stop();
  });

  const call = async (path: string, authorization: string | undefined): Promise<unknown> => {
    const response = await app.inject({
      method: 'GET',
      url: path,
      headers: authorization === undefined ? {} : { authorization },
    });
    return {
      status: response.statusCode,
      challenge: response.headers['www-authenticate'],
      body: JSON.parse(response.body) as unknown,
    };
  };

  it('covers at least the required rows', () => {
    const reasons = cases.map((row) => row.reason);

    expect(reasons).toEqual(
      expect.arrayContaining([
        'sends no credentials',
        'is alg none with an empty signature',
        'is HS256 keyed with the PEM public key',
        'expired 31 s ago',
        'is for the other service only',
        'has a revoked jti',
      ]),
    );
    expect(cases.length).toBeGreaterThanOrEqual(12);
  });

  it.each(cases)('AuthGuard(jwt) gives AccessTokenGuard’s verdict when the token $reason', async (row) => {
    const authorization = row.authorization();

    // passport first, so its verdict never comes from a cache entry the guard left behind
    const viaPassport = await call('/verdict/passport', authorization);
    const viaGuard = await call('/verdict/guard', authorization);

    expect(viaPassport).toEqual(viaGuard);
    expect((viaGuard as { status: number }).status).toBe(row.verdict === 'accept' ? 200 : 401);
    if (row.verdict === 'accept') {
      expect((viaPassport as { body: unknown }).body).toEqual({ subject: row.subject });
    }
  });

  it('enforces @Roles() with RolesGuard after AuthGuard(jwt) as AccessTokenGuard does on its own', async () => {
    const admin = issuer.mintAccessToken({ claims: { roles: ['admin'] } });
    const callers = [undefined, `Bearer ${issuer.mintAccessToken()}`, `Bearer ${admin}`];
    const statuses = (path: string): Promise<unknown[]> =>
      Promise.all(
        callers.map(
          async (authorization) => ((await call(path, authorization)) as { status: number }).status,
        ),
      );

    expect(await statuses('/verdict/passport/admin')).toEqual([401, 403, 200]);
    expect(await statuses('/verdict/guard/admin')).toEqual([401, 403, 200]);
  });

  // a caller the app's validate() refused is nobody's caller: a later strategy of the chain lets the
  // request on as anonymous, and RolesGuard must not find the refused admin in the call
  it('runs validate() as the caller, and withdraws a caller validate() refused', async () => {
    const refusedAdmin = issuer.mintAccessToken({ claims: { sub: REFUSED_SUBJECT, roles: ['admin'] } });
    const admin = issuer.mintAccessToken({ claims: { roles: ['admin'] } });

    const refused = (await call('/verdict/chain/admin', `Bearer ${refusedAdmin}`)) as { status: number };
    const admitted = (await call('/verdict/chain/admin', `Bearer ${admin}`)) as { status: number };

    expect(refused.status).toBe(401);
    expect(admitted.status).toBe(200);
    expect(seenInValidate).toEqual(['token', 'token']);
  });

  it('refuses two Authorization headers as AccessTokenGuard does, though each alone passes', async () => {
    // node:http, not inject: light-my-request keeps one value per header name
    await app.listen(0, '127.0.0.1');
    const base = await app.getUrl();
    const tokens = [issuer.mintAccessToken(), issuer.mintAccessToken({ claims: { sub: 'user-2' } })];
    const twice = { authorization: tokens.map((token) => `Bearer ${token}`) };

    const viaPassport = await sendRawRequest(`${base}/verdict/passport`, { headers: twice });
    const viaGuard = await sendRawRequest(`${base}/verdict/guard`, { headers: twice });

    expect([viaPassport.status, viaGuard.status]).toEqual([401, 401]);
    expect(viaPassport.headers['www-authenticate']).toBe(viaGuard.headers['www-authenticate']);
  });

  // AuthGuard() hands the strategy the message's data on RPC: it never reads a token from there, and
  // it refuses with the transport's 401, not a TypeError's 500
  it('refuses every NATS message with 401, a token inside the data above all', async () => {
    const token = issuer.mintAccessToken();

    const inHeader = await nats.request(RPC_SUBJECT, {}, { headers: { authorization: `Bearer ${token}` } });
    const inData = await nats.request(RPC_SUBJECT, { headers: { authorization: `Bearer ${token}` } });

    for (const reply of [inHeader, inData]) {
      expect(reply.err).toEqual({
        status: 401,
        message: "Unsupported transport: AuthGuard('jwt') guards HTTP only",
      });
    }
  });
});
