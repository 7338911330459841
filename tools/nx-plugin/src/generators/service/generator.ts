import {
  addProjectConfiguration,
  formatFiles,
  generateFiles,
  joinPathFragments,
  names,
  offsetFromRoot,
  readProjectConfiguration,
  type TargetConfiguration,
  type Tree,
  updateProjectConfiguration,
} from '@nx/devkit';
import { dirname, join, relative } from 'node:path';

import { addToModuleImports } from './module-imports';
import type { ServiceGeneratorSchema } from './schema';

/** HTTP port default when no app in apps/ declares one (auth, orders and inventory take 3000–3002). */
const FIRST_PORT = 3003;

/**
 * `nx g @relay/nx-plugin:service <name>`: a new service wired like orders and inventory, with its
 * end-to-end project; `--existing <app>`: secures an app made by `@nx/nest:app` in place.
 */
export async function serviceGenerator(tree: Tree, options: ServiceGeneratorSchema): Promise<void> {
  if (options.existing !== undefined) {
    secureExistingApp(tree, options.existing, options);
  } else if (options.name !== undefined) {
    createService(tree, options.name, options);
  } else {
    throw new Error('Give a service name (nx g @relay/nx-plugin:service <name>) or --existing <app>.');
  }
  if (!options.skipFormat) await formatFiles(tree);
}

export default serviceGenerator;

function createService(tree: Tree, name: string, options: ServiceGeneratorSchema): void {
  const { fileName, className } = names(name);
  const projectRoot = `apps/${fileName}`;
  const e2eName = `${fileName}-e2e`;
  const e2eRoot = `apps/${e2eName}`;
  for (const root of [projectRoot, e2eRoot]) {
    if (tree.exists(root)) throw new Error(`${root} exists already; to secure an app there, use --existing.`);
  }
  const port = options.port ?? nextFreePort(tree);
  const variables = {
    fileName,
    className,
    port,
    // orders (3001) inspects on 9230, inventory (3002) on 9231: the same offset keeps them apart
    inspectPort: port + 6229,
    projectRoot,
    e2eName,
    e2eRoot,
    offsetFromRoot: offsetFromRoot(projectRoot),
  };

  addProjectConfiguration(tree, fileName, {
    root: projectRoot,
    sourceRoot: `${projectRoot}/src`,
    projectType: 'application',
    tags: [`scope:${options.scope ?? fileName}`, 'type:app'],
    targets: appTargets(),
  });
  generateFiles(tree, join(__dirname, 'files/service'), projectRoot, variables);
  generateFiles(tree, join(__dirname, 'files/config'), `${projectRoot}/src`, variables);

  addProjectConfiguration(tree, e2eName, {
    root: e2eRoot,
    sourceRoot: `${e2eRoot}/src`,
    projectType: 'application',
    tags: ['type:e2e'],
    implicitDependencies: [fileName],
    targets: {
      e2e: {
        executor: '@nx/jest:jest',
        outputs: ['{workspaceRoot}/coverage/{projectRoot}'],
        dependsOn: [{ projects: [fileName], target: 'build' }],
        options: { jestConfig: `${e2eRoot}/jest.config.cts`, runInBand: true, passWithNoTests: false },
      },
    },
  });
  generateFiles(tree, join(__dirname, 'files/e2e'), e2eRoot, {
    ...variables,
    offsetFromRoot: offsetFromRoot(e2eRoot),
  });
}

/**
 * Adds to an `@nx/nest:app` app: its validated config, `RelayPlatformModule` (AuthModule with its
 * global guard and filter, health, the strict pipe) imported by its AppModule, the NATS microservice
 * in `main.ts`, and the module-boundary tags. It stays on its HTTP adapter (Express by default).
 */
function secureExistingApp(tree: Tree, projectName: string, options: ServiceGeneratorSchema): void {
  const project = readProjectConfiguration(tree, projectName);
  if (project.projectType !== 'application') throw new Error(`${projectName} is not an application.`);
  const sourceRoot = project.sourceRoot ?? `${project.root}/src`;
  const mainPath = joinPathFragments(sourceRoot, 'main.ts');
  const main = tree.read(mainPath, 'utf-8');
  if (main === null || !main.includes('NestFactory.create(AppModule')) {
    throw new Error(`${mainPath} is not the main.ts of an @nx/nest:app app (NestFactory.create(AppModule)).`);
  }
  if (main.includes('natsMicroserviceOptions')) throw new Error(`${projectName} is secured already.`);
  const appModulePath = [
    joinPathFragments(sourceRoot, 'app/app.module.ts'),
    joinPathFragments(sourceRoot, 'app.module.ts'),
  ].find((path) => tree.exists(path));
  if (appModulePath === undefined) throw new Error(`No app.module.ts under ${sourceRoot}.`);

  const { fileName, className } = names(projectName);
  const configDir = joinPathFragments(sourceRoot, 'config');
  const configFile = joinPathFragments(configDir, `${fileName}.config`);
  const variables = {
    fileName,
    className,
    port: options.port ?? nextFreePort(tree),
    globalPrefix:
      /setGlobalPrefix\(\s*['"]([^'"]*)['"]/.exec(main)?.[1] ??
      /globalPrefix = ['"]([^'"]*)['"]/.exec(main)?.[1],
    appModuleImport: importPath(sourceRoot, appModulePath.replace(/\.ts$/, '')),
    configImport: importPath(dirname(appModulePath), configFile),
  };
  generateFiles(tree, join(__dirname, 'files/config'), sourceRoot, variables);
  generateFiles(tree, join(__dirname, 'files/existing/platform'), dirname(appModulePath), variables);
  generateFiles(tree, join(__dirname, 'files/existing/main'), sourceRoot, {
    ...variables,
    configImport: importPath(sourceRoot, configFile),
  });
  const appModule = tree.read(appModulePath, 'utf-8') ?? '';
  tree.write(
    appModulePath,
    addToModuleImports(appModulePath, appModule, 'RelayPlatformModule', './relay-platform.module'),
  );

  const tags = new Set([...(project.tags ?? []), `scope:${options.scope ?? fileName}`, 'type:app']);
  updateProjectConfiguration(tree, projectName, { ...project, tags: [...tags] });
}

/** `./a/b` from `fromDir` to `toFile` (both workspace-relative, no extension). */
function importPath(fromDir: string, toFile: string): string {
  const path = relative(fromDir, toFile);
  return path.startsWith('.') ? path : `./${path}`;
}

/** One above the highest `PORT: number = <n>` default in apps' config classes, so `nx serve` can run them all. */
function nextFreePort(tree: Tree): number {
  let highest = FIRST_PORT - 1;
  for (const app of tree.exists('apps') ? tree.children('apps') : []) {
    const configDir = `apps/${app}/src/config`;
    for (const file of tree.exists(configDir) ? tree.children(configDir) : []) {
      const match = /PORT: number = (\d+)/.exec(tree.read(`${configDir}/${file}`, 'utf-8') ?? '');
      if (match) highest = Math.max(highest, Number(match[1]));
    }
  }
  return highest + 1;
}

/**
 * The apps' `build` and `serve` (see apps/inventory/project.json): webpack-cli with the app's
 * webpack.config.js (tools/webpack/relay-app.webpack.js, which restarts the app after each rebuild
 * under `serve`). `test` and `lint` are inferred from jest.config.cts and eslint.config.mjs.
 */
function appTargets(): Record<string, TargetConfiguration> {
  return {
    build: {
      executor: 'nx:run-commands',
      cache: true,
      inputs: [
        'production',
        '^production',
        '{workspaceRoot}/tools/webpack/**',
        { externalDependencies: ['webpack-cli'] },
      ],
      outputs: ['{workspaceRoot}/dist/{projectRoot}'],
      defaultConfiguration: 'production',
      options: { command: 'webpack-cli build', cwd: '{projectRoot}' },
      configurations: {
        production: { env: { NODE_ENV: 'production' } },
        development: { env: { NODE_ENV: 'development' } },
      },
    },
    serve: {
      continuous: true,
      executor: 'nx:run-commands',
      options: {
        command: 'webpack-cli watch --env serve --env inspect={args.inspect}',
        cwd: '{projectRoot}',
        env: { NODE_ENV: 'development' },
      },
    },
  };
}
