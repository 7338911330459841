import {
  Body,
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  Injectable,
  Module,
  Post,
  SetMetadata,
  UnauthorizedException,
  ValidationPipe,
} from '@nestjs/common';
import { APP_GUARD, APP_PIPE, NestFactory, Reflector } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiExcludeEndpoint, ApiProperty, type OpenAPIObject, type ResponseObject } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { ApiBearerToken, installOpenApi, OPENAPI_JSON_PATH, OPENAPI_UI_PATH } from './openapi';
import { checkOpenApiConformance, recordRoutes } from './openapi-conformance';

// A small app whose guard refuses every call without a token, as AccessTokenGuard does (401 with
// a Bearer challenge), except on routes marked open; its routes disagree with its document on purpose.
const OPEN = 'open';

@Injectable()
class TokenGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (this.reflector.get<boolean | undefined>(OPEN, context.getHandler()) === true) return true;
    const http = context.switchToHttp();
    if (http.getRequest<FastifyRequest>().headers.authorization !== undefined) return true;
    http.getResponse<FastifyReply>().header('WWW-Authenticate', 'Bearer');
    throw new UnauthorizedException();
  }
}

class NoteDto {
  @ApiProperty()
  @IsString()
  text!: string;

  // validated but not documented
  @IsOptional()
  @IsString()
  tag?: string;
}

@Controller('notes')
class NotesController {
  @Get()
  @ApiBearerToken()
  list(): string[] {
    return [];
  }

  // documented as secured, but open
  @Get('latest')
  @SetMetadata(OPEN, true)
  @ApiBearerToken()
  latest(): string {
    return '';
  }

  @Post()
  @SetMetadata(OPEN, true)
  add(@Body() note: NoteDto): NoteDto {
    return note;
  }

  @Get('hidden')
  @ApiExcludeEndpoint()
  hidden(): string {
    return '';
  }
}

@Module({
  controllers: [NotesController],
  providers: [
    { provide: APP_GUARD, useClass: TokenGuard },
    { provide: APP_PIPE, useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }) },
  ],
})
class NotesModule {}

describe('installOpenApi', () => {
  let app: NestFastifyApplication;
  let routes: ReturnType<typeof recordRoutes>;
  let document: OpenAPIObject;

  beforeAll(async () => {
    app = await NestFactory.create<NestFastifyApplication>(NotesModule, new FastifyAdapter(), {
      logger: false,
    });
    installOpenApi(app, 'notes');
    routes = recordRoutes(app);
    await app.init();
    document = (await app.inject({ method: 'GET', url: OPENAPI_JSON_PATH })).json<OpenAPIObject>();
  });

  afterAll(async () => {
    await app?.close();
  });

  const responsesOf = (path: string, method: 'get' | 'post'): Record<string, ResponseObject> =>
    document.paths[path][method]?.responses as Record<string, ResponseObject>;

  it('serves the document and Swagger UI past the guard, without a token', async () => {
    const page = await app.inject({ method: 'GET', url: OPENAPI_UI_PATH });
    const json = await app.inject({ method: 'GET', url: OPENAPI_JSON_PATH });

    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(json.statusCode).toBe(200);
    expect(document.info.title).toBe('Relay notes');
    expect(document.components?.securitySchemes?.['bearer']).toMatchObject({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
  });

  it("adds the guard's answers to secured routes and the parser's to routes with a body", () => {
    expect(Object.keys(responsesOf('/notes', 'get')).sort()).toEqual(['200', '401', '403', '503']);
    expect(responsesOf('/notes', 'get')['401'].headers).toHaveProperty('WWW-Authenticate');
    expect(Object.keys(responsesOf('/notes', 'post')).sort()).toEqual(['201', '400', '413', '415']);
    expect(responsesOf('/notes', 'post')['201'].headers).toHaveProperty('x-request-id');
  });

  it('finds where the routes and the document disagree', async () => {
    const extra = { get: { responses: { 200: { description: '' } } } };
    const tampered: OpenAPIObject = { ...document, paths: { ...document.paths, '/notes/{id}': extra } };

    const report = await checkOpenApiConformance(app, routes, tampered);

    expect(report).toEqual({
      undocumented: ['GET /notes/hidden'],
      unserved: ['GET /notes/:id'],
      security: ['GET /notes/latest: documented secured, answered 200 without a token'],
      inputs: ['POST /notes body: validates {tag?, text}, documents {text}'],
    });
  });
});
