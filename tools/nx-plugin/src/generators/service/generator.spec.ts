import { addProjectConfiguration, readProjectConfiguration, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';

import { serviceGenerator } from './generator';
import { addToModuleImports } from './module-imports';

/** Every file under `root`, relative to it, sorted. */
function filesUnder(tree: Tree, root: string): string[] {
  const walk = (dir: string): string[] =>
    tree.children(dir).flatMap((child) => {
      const path = `${dir}/${child}`;
      return tree.isFile(path) ? [path.slice(root.length + 1)] : walk(path);
    });
  return walk(root).sort();
}

const read = (tree: Tree, path: string): string => tree.read(path, 'utf-8') ?? '';

// What `nx g @nx/nest:app apps/plain` writes (Nx 23.2), trimmed to what --existing reads.
const NEST_APP_MAIN = `import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app/app.module';

async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  const globalPrefix = 'api';
  app.setGlobalPrefix(globalPrefix);
  const port = process.env.PORT || 3000;
  await app.listen(port);
  Logger.log(\`Application is running on: http://localhost:\${port}/\${globalPrefix}\`);
}

bootstrap();
`;
const NEST_APP_MODULE = `import { Module } from '@nestjs/common';
import { AppController } from './app.controller';
import { AppService } from './app.service';

@Module({
  imports: [],
  controllers: [AppController],
  providers: [AppService],
})
export class AppModule {}
`;

function addNestApp(tree: Tree, name: string): void {
  addProjectConfiguration(tree, name, {
    root: `apps/${name}`,
    sourceRoot: `apps/${name}/src`,
    projectType: 'application',
    tags: ['team:a'],
  });
  tree.write(`apps/${name}/src/main.ts`, NEST_APP_MAIN);
  tree.write(`apps/${name}/src/app/app.module.ts`, NEST_APP_MODULE);
}

describe('service generator', () => {
  let tree: Tree;

  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
  });

  describe('a new service', () => {
    it('creates the app and its e2e project, wired like inventory', async () => {
      await serviceGenerator(tree, { name: 'ledger' });

      expect(filesUnder(tree, 'apps/ledger')).toEqual([
        'eslint.config.mjs',
        'jest.config.cts',
        'project.json',
        'src/app.module.spec.ts',
        'src/app.module.ts',
        'src/config/ledger.config.ts',
        'src/ledger/caller.ts',
        'src/ledger/echo.dto.ts',
        'src/ledger/ledger.controller.ts',
        'src/ledger/ledger.module.ts',
        'src/ledger/ledger.rpc.controller.ts',
        'src/main.ts',
        'tsconfig.app.json',
        'tsconfig.json',
        'tsconfig.spec.json',
        'webpack.config.js',
      ]);
      expect(filesUnder(tree, 'apps/ledger-e2e')).toEqual([
        'eslint.config.mjs',
        'jest.config.cts',
        'project.json',
        'src/ledger.spec.ts',
        'tsconfig.json',
        'tsconfig.spec.json',
      ]);
      for (const file of [...filesUnder(tree, 'apps/ledger'), ...filesUnder(tree, 'apps/ledger-e2e')]) {
        expect({ file, leftover: /<%|%>|__fileName__/.test(file) }).toEqual({ file, leftover: false });
      }
    });

    it('tags the app for the module boundaries and gives it build and serve like the other apps', async () => {
      await serviceGenerator(tree, { name: 'ledger' });

      const app = readProjectConfiguration(tree, 'ledger');
      const e2e = readProjectConfiguration(tree, 'ledger-e2e');

      expect(app.tags).toEqual(['scope:ledger', 'type:app']);
      expect(app.targets?.['build']?.options).toEqual({ command: 'webpack-cli build', cwd: '{projectRoot}' });
      expect(app.targets?.['serve']?.continuous).toBe(true);
      expect(e2e.tags).toEqual(['type:e2e']);
      expect(e2e.implicitDependencies).toEqual(['ledger']);
      expect(e2e.targets?.['e2e']?.dependsOn).toEqual([{ projects: ['ledger'], target: 'build' }]);
    });

    it('writes the composition root, main.ts, config and handlers', async () => {
      await serviceGenerator(tree, { name: 'ledger' });

      const appModule = read(tree, 'apps/ledger/src/app.module.ts');
      expect(appModule).toContain('AuthModule.forRootAsync({');
      expect(appModule).toContain("serviceName: 'ledger'");
      expect(appModule).toContain('HealthModule.forRootAsync({');
      expect(appModule).toContain('{ provide: APP_PIPE, useClass: StrictValidationPipe }');
      expect(appModule).not.toMatch(/provide: APP_GUARD|authAppProviders/);
      expect(read(tree, 'apps/ledger/src/main.ts')).toContain(
        "runService('ledger', validateLedgerConfig, (config) =>",
      );
      expect(read(tree, 'apps/ledger/src/config/ledger.config.ts')).toMatch(
        /class LedgerConfig extends BaseAppConfig[\s\S]*PORT: number = 3003;[\s\S]*AUTH_AUDIENCE: string = 'ledger';/,
      );
      expect(read(tree, 'apps/ledger/src/ledger/ledger.controller.ts')).toContain("@Controller('ledger')");
      expect(read(tree, 'apps/ledger/src/ledger/ledger.rpc.controller.ts')).toMatch(
        /LedgerSubjects = \{ echo: 'ledger\.echo' \}[\s\S]*@Roles\('customer', 'admin'\)\s*@MessagePattern\(LedgerSubjects\.echo\)/,
      );
      expect(read(tree, 'apps/ledger/webpack.config.js')).toContain(
        "relayAppWebpackConfig({ app: 'ledger', inspectPort: 9232 })",
      );
      expect(read(tree, 'apps/ledger-e2e/src/ledger.spec.ts')).toContain(
        "const BUILT_MAIN = join(WORKSPACE_ROOT, 'dist/apps/ledger/main.js');",
      );
    });

    it('names classes from a kebab-case name', async () => {
      await serviceGenerator(tree, { name: 'parcel-desk' });

      expect(read(tree, 'apps/parcel-desk/src/app.module.ts')).toContain('ParcelDeskModule,');
      expect(read(tree, 'apps/parcel-desk/src/parcel-desk/parcel-desk.rpc.controller.ts')).toContain(
        "ParcelDeskSubjects = { echo: 'parcel-desk.echo' }",
      );
    });

    it('takes the port above the highest app default, unless --port says', async () => {
      tree.write(
        'apps/billing/src/config/billing.config.ts',
        'export class X {\n  PORT: number = 3007;\n}\n',
      );

      await serviceGenerator(tree, { name: 'ledger' });
      await serviceGenerator(tree, { name: 'audit', port: 4100 });

      expect(read(tree, 'apps/ledger/src/config/ledger.config.ts')).toContain('PORT: number = 3008;');
      expect(read(tree, 'apps/audit/src/config/audit.config.ts')).toContain('PORT: number = 4100;');
    });

    it('puts --scope in the scope tag', async () => {
      await serviceGenerator(tree, { name: 'ledger', scope: 'billing' });

      expect(readProjectConfiguration(tree, 'ledger').tags).toEqual(['scope:billing', 'type:app']);
    });

    it('refuses a folder that exists, and a call without a name', async () => {
      tree.write('apps/ledger/README.md', 'mine');

      await expect(serviceGenerator(tree, { name: 'ledger' })).rejects.toThrow('apps/ledger exists already');
      await expect(serviceGenerator(tree, {})).rejects.toThrow('Give a service name');
    });
  });

  describe('--existing', () => {
    it('secures an @nx/nest:app app: config, platform module, NATS in main.ts, tags', async () => {
      addNestApp(tree, 'plain');

      await serviceGenerator(tree, { existing: 'plain' });

      const main = read(tree, 'apps/plain/src/main.ts');
      expect(main).toContain('exitOnInvalidEnvironment(validatePlainConfig)');
      expect(main).toContain("app.setGlobalPrefix('api');");
      expect(main).toMatch(
        /natsMicroserviceOptions\(\{[\s\S]*name: 'plain'[\s\S]*\{ inheritAppConfig: true \}/,
      );
      expect(main).toMatch(
        /await app\.init\(\);\s+await app\.startAllMicroservices\(\);\s+await app\.listen/,
      );
      expect(main).toContain("import { AppModule } from './app/app.module';");
      expect(read(tree, 'apps/plain/src/app/app.module.ts')).toMatch(
        /import \{ RelayPlatformModule \} from '\.\/relay-platform\.module';[\s\S]*imports: \[RelayPlatformModule\]/,
      );
      const platform = read(tree, 'apps/plain/src/app/relay-platform.module.ts');
      expect(platform).toContain("from '../config/plain.config';");
      expect(platform).toContain('AuthModule.forRootAsync({');
      expect(read(tree, 'apps/plain/src/config/plain.config.ts')).toContain(
        'class PlainConfig extends BaseAppConfig',
      );
      expect(readProjectConfiguration(tree, 'plain').tags).toEqual(['team:a', 'scope:plain', 'type:app']);
    });

    it('refuses an app whose main.ts it does not recognise, or that it secured already', async () => {
      addNestApp(tree, 'plain');
      addNestApp(tree, 'custom');
      tree.write('apps/custom/src/main.ts', "import { start } from './start';\n\nstart();\n");

      await serviceGenerator(tree, { existing: 'plain' });

      await expect(serviceGenerator(tree, { existing: 'plain' })).rejects.toThrow('plain is secured already');
      await expect(serviceGenerator(tree, { existing: 'custom' })).rejects.toThrow(
        'apps/custom/src/main.ts is not the main.ts of an @nx/nest:app app',
      );
      await expect(serviceGenerator(tree, { existing: 'nope' })).rejects.toThrow();
    });
  });
});

describe('addToModuleImports', () => {
  it('adds the module to existing imports, or an imports property', () => {
    const withImports =
      "import { Module } from '@nestjs/common';\n\n@Module({ imports: [A] })\nexport class M {}\n";
    const without =
      "import { Module } from '@nestjs/common';\n\n@Module({ controllers: [] })\nexport class M {}\n";

    expect(addToModuleImports('m.ts', withImports, 'P', './p')).toContain("import { P } from './p';");
    expect(addToModuleImports('m.ts', withImports, 'P', './p')).toContain('imports: [P, A]');
    expect(addToModuleImports('m.ts', without, 'P', './p')).toContain('{ imports: [P], controllers: [] }');
  });

  it('refuses imports it cannot edit, and a file without @Module', () => {
    const computed =
      "import { Module } from '@nestjs/common';\n\n@Module({ imports: list() })\nexport class M {}\n";

    expect(() => addToModuleImports('m.ts', computed, 'P', './p')).toThrow('add P by hand');
    expect(() => addToModuleImports('m.ts', 'export class M {}\n', 'P', './p')).toThrow('no @Module');
  });
});
