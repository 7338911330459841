import {
  type DynamicModule,
  Global,
  Inject,
  Injectable,
  Module,
  type ModuleMetadata,
  type OnApplicationShutdown,
} from '@nestjs/common';

import type { Database, OpenDatabaseOptions } from './database';
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
}
