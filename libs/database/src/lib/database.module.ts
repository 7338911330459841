import { join } from 'node:path';

import {
  type DynamicModule,
  Global,
  Inject,
  Injectable,
  Module,
  type ModuleMetadata,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';

import type { BaseAppConfig } from '@relay/config';

import type { Database, Migration, OpenDatabaseOptions } from './database';
import { openDatabase } from './open-database';

/** Injection token of the app's {@link Database}: `@Inject(DATABASE) db: Database`. */
export const DATABASE = Symbol('DATABASE');

/** Options of {@link DatabaseModule.forRootAsync}. */
export interface DatabaseModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  // Nest's own provider types use `any[]` for factory injection; kept as unknown here.
  inject?: Array<string | symbol | (abstract new (...args: never[]) => unknown)>;
  useFactory: (...args: never[]) => OpenDatabaseOptions | Promise<OpenDatabaseOptions>;
}

@Injectable()
class DatabaseCloser implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}

/** Opens and migrates the app's database at start and closes it at shutdown; global. */
@Global()
@Module({})
export class DatabaseModule {
  static forRootAsync(options: DatabaseModuleAsyncOptions): DynamicModule {
    return {
      module: DatabaseModule,
      imports: options.imports ?? [],
      providers: [
        {
          provide: DATABASE,
          inject: options.inject ?? [],
          useFactory: async (...args: never[]) => openDatabase(await options.useFactory(...args)),
        },
        DatabaseCloser,
      ],
      exports: [DATABASE],
    };
  }

  /**
   * A Relay service's database as its validated config says, from the global `ConfigService`:
   * `DATABASE_URL`, else PGlite under `${DATA_DIR}/<service>`; on a server, the statement and
   * idle-in-transaction timeouts of `DATABASE_STATEMENT_TIMEOUT_MS` and
   * `DATABASE_IDLE_TRANSACTION_TIMEOUT_MS`.
   */
  static forService(service: string, migrations: readonly Migration[]): DynamicModule {
    return DatabaseModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<BaseAppConfig, true>) => ({
        url: config.get('DATABASE_URL', { infer: true }),
        dataDir: join(config.get('DATA_DIR', { infer: true }), service),
        migrations,
        timeouts: {
          statementMs: config.get('DATABASE_STATEMENT_TIMEOUT_MS', { infer: true }),
          idleInTransactionMs: config.get('DATABASE_IDLE_TRANSACTION_TIMEOUT_MS', { infer: true }),
        },
      }),
    });
  }
}
