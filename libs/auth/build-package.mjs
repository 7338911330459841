// Builds the @relay/auth npm package into dist/libs/auth: `npx nx build auth-lib`.
//
// The library imports unpublished workspace libraries by path alias (`@relay/contracts`, and through
// its test kit `@relay/testing` and the plain-JS `@relay/nats-bus`). Rather than publishing those or
// copying their constants, the package carries the workspace sources it reaches, compiled by the same
// TypeScript program, and every `@relay/*` module specifier in the emitted `.js` and `.d.ts` becomes a
// relative path into the package. One source of truth stays in the workspace; the package has no import
// an adopter could not resolve, which the last step checks.
//
// An alias is not pointed at its library's index: `@relay/contracts`' index also loads the inventory
// DTOs, whose decorators need class-validator at load time. Each alias instead gets a generated entry
// (an in-memory `package-exports.ts` beside the library's index) re-exporting just the names the package
// imports from it, from the files that declare them, so only those files are emitted and loaded.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';

const workspace = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const libs = join(workspace, 'libs');
const outDir = join(workspace, 'dist/libs/auth');
const compiledDir = join(outDir, 'lib');
const manifest = JSON.parse(readFileSync(join(workspace, 'libs/auth/package.json'), 'utf8'));

/** Package entry points (subpath → source), compiled with the workspace's own compiler options. */
const ENTRIES = {
  '.': join(workspace, 'libs/auth/src/index.ts'),
  './passport': join(workspace, 'libs/auth/src/passport.ts'),
  './testing': join(workspace, 'libs/auth/src/test-support/index.ts'),
};
const GENERATED_ENTRY = 'package-exports.ts';

const toPosix = (path) => path.split(sep).join(posix.sep);
const withoutExtension = (path) => path.replace(/(\.d)?\.ts$/, '');

function compilerOptions() {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(workspace, 'libs/auth/tsconfig.lib.json'),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (diagnostic) => fail([diagnostic]) },
  );
  return {
    ...parsed.options,
    rootDir: libs,
    outDir: compiledDir,
    declaration: true,
    declarationMap: false,
    sourceMap: false,
    // tslib would become a dependency of the package; the few helpers (decorators) are inlined instead
    importHelpers: false,
    noEmit: false,
    composite: false,
    incremental: false,
    tsBuildInfoFile: undefined,
  };
}

function fail(diagnostics) {
  const host = {
    getCanonicalFileName: (name) => name,
    getCurrentDirectory: () => workspace,
    getNewLine: () => '\n',
  };
  console.error(ts.formatDiagnosticsWithColorAndContext(diagnostics, host));
  process.exit(1);
}

/** `@relay/x` aliases of tsconfig.base.json, each with the file it resolves to. */
function workspaceAliases(options) {
  const aliases = new Map();
  for (const alias of Object.keys(options.paths ?? {})) {
    if (!alias.startsWith('@relay/')) continue;
    const resolved = ts.resolveModuleName(alias, join(workspace, 'index.ts'), options, ts.sys).resolvedModule;
    if (resolved) aliases.set(alias, resolved.resolvedFileName);
  }
  return aliases;
}

/** Whether `node` is a dynamic `import('…')` of a literal specifier. */
const isDynamicImport = (node) =>
  ts.isCallExpression(node) &&
  node.expression.kind === ts.SyntaxKind.ImportKeyword &&
  node.arguments.length === 1 &&
  ts.isStringLiteral(node.arguments[0]);

/** Every module specifier of a source file: import/export declarations, `import('…')` types and calls. */
function moduleSpecifiers(sourceFile) {
  const found = [];
  const visit = (node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      found.push({ node, specifier: node.moduleSpecifier.text });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      found.push({ node, specifier: node.argument.literal.text });
    } else if (isDynamicImport(node)) {
      found.push({ node, specifier: node.arguments[0].text });
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return found;
}

/**
 * For each TypeScript alias the program imports from (other than the package's own entries), a
 * generated entry re-exporting just the imported names from their declaring files. An alias that
 * something takes whole (`import * as`, `export *`) keeps its real index.
 */
function generatedEntries(program, aliases) {
  const checker = program.getTypeChecker();
  const names = new Map();
  for (const sourceFile of program.getSourceFiles()) {
    if (!sourceFile.fileName.startsWith(libs)) continue;
    for (const { node, specifier } of moduleSpecifiers(sourceFile)) {
      const target = aliases.get(specifier);
      if (!target || target.endsWith('.d.ts') || Object.values(ENTRIES).includes(target)) continue;
      const wanted = names.get(specifier) ?? new Set();
      names.set(specifier, wanted);
      const bindings = ts.isImportDeclaration(node) ? node.importClause?.namedBindings : node.exportClause;
      if (ts.isImportTypeNode(node)) wanted.add(node.qualifier?.getText().split('.')[0] ?? '*');
      else if (isDynamicImport(node)) wanted.add('*');
      else if (!bindings || !('elements' in bindings)) wanted.add('*');
      else for (const element of bindings.elements) wanted.add((element.propertyName ?? element.name).text);
    }
  }
  const entries = new Map();
  for (const [alias, wanted] of names) {
    const index = aliases.get(alias);
    if (wanted.has('*')) continue;
    const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(index)));
    // one `export { … } from` per declaring file (values and types apart), so each file loads once
    const groups = new Map();
    for (const name of [...wanted].sort()) {
      const exported = exports.find((symbol) => symbol.name === name);
      if (!exported) throw new Error(`${alias} has no export named ${name}`);
      const original = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const declaration = original.declarations?.[0]?.getSourceFile().fileName;
      const from =
        [...aliases].find(([, file]) => file === declaration)?.[0] ?? relativeSpecifier(index, declaration);
      const keyword = (original.flags & ts.SymbolFlags.Value) === 0 ? 'export type' : 'export';
      const key = `${keyword} from '${from}'`;
      groups.set(key, [
        ...(groups.get(key) ?? []),
        original.name === name ? name : `${original.name} as ${name}`,
      ]);
    }
    const lines = [...groups].map(
      ([key, bindings]) => key.replace(' from', ` { ${bindings.join(', ')} } from`) + ';',
    );
    entries.set(alias, {
      fileName: join(dirname(index), GENERATED_ENTRY),
      text: `// generated by libs/auth/build-package.mjs: what @relay/auth takes from ${alias}\n${lines.join('\n')}\n`,
    });
  }
  return entries;
}

/** `./x/y` from `fromFile` to `toFile`, without extension. */
function relativeSpecifier(fromFile, toFile) {
  const path = toPosix(relative(dirname(fromFile), withoutExtension(toFile)));
  return path.startsWith('.') ? path : `./${path}`;
}

/** Rewrites `@relay/*` specifiers to relative paths, in the `.js` (before) and `.d.ts` (afterDeclarations) output. */
function specifierRewriter(aliasTargets) {
  return (context) => (sourceFile) => {
    const { factory } = context;
    const rewrite = (text) => {
      const target = aliasTargets.get(text);
      return target ? factory.createStringLiteral(relativeSpecifier(sourceFile.fileName, target)) : undefined;
    };
    const visit = (node) => {
      if (ts.isImportDeclaration(node) && rewrite(node.moduleSpecifier.text)) {
        return factory.updateImportDeclaration(
          node,
          node.modifiers,
          node.importClause,
          rewrite(node.moduleSpecifier.text),
          node.attributes,
        );
      }
      if (ts.isExportDeclaration(node) && node.moduleSpecifier && rewrite(node.moduleSpecifier.text)) {
        return factory.updateExportDeclaration(
          node,
          node.modifiers,
          node.isTypeOnly,
          node.exportClause,
          rewrite(node.moduleSpecifier.text),
          node.attributes,
        );
      }
      if (
        ts.isImportTypeNode(node) &&
        ts.isLiteralTypeNode(node.argument) &&
        rewrite(node.argument.literal.text)
      ) {
        return factory.updateImportTypeNode(
          node,
          factory.updateLiteralTypeNode(node.argument, rewrite(node.argument.literal.text)),
          node.attributes,
          node.qualifier,
          node.typeArguments,
          node.isTypeOf,
        );
      }
      if (isDynamicImport(node) && rewrite(node.arguments[0].text)) {
        return factory.updateCallExpression(node, node.expression, node.typeArguments, [
          rewrite(node.arguments[0].text),
        ]);
      }
      return ts.visitEachChild(node, visit, context);
    };
    return ts.visitNode(sourceFile, visit);
  };
}

function compile() {
  const options = compilerOptions();
  const aliases = workspaceAliases(options);
  const roots = Object.values(ENTRIES);
  const first = ts.createProgram(roots, options);
  const entries = generatedEntries(first, aliases);

  // the second program sees each pruned alias through its generated entry
  const host = ts.createCompilerHost(options);
  const generated = new Map([...entries.values()].map((entry) => [entry.fileName, entry.text]));
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (fileName) => generated.has(fileName) || fileExists.call(host, fileName);
  host.readFile = (fileName) => generated.get(fileName) ?? readFile.call(host, fileName);
  host.getSourceFile = (fileName, languageVersion, ...rest) =>
    generated.has(fileName)
      ? ts.createSourceFile(fileName, generated.get(fileName), languageVersion, true)
      : getSourceFile.call(host, fileName, languageVersion, ...rest);
  const paths = { ...options.paths };
  for (const [alias, entry] of entries) paths[alias] = [entry.fileName];
  const program = ts.createProgram([...roots, ...generated.keys()], { ...options, paths }, host);
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length > 0) fail(diagnostics);

  // where each alias now points: a compiled source, or a plain-JS library's .d.ts (copied beside its .js)
  const aliasTargets = new Map(
    [...aliases].map(([alias, file]) => [alias, entries.get(alias)?.fileName ?? file]),
  );
  const rewriter = specifierRewriter(aliasTargets);
  const emitted = program.emit(undefined, undefined, undefined, false, {
    before: [rewriter],
    afterDeclarations: [rewriter],
  });
  if (emitted.emitSkipped || emitted.diagnostics.length > 0) fail(emitted.diagnostics);

  const plainJs = new Set();
  for (const sourceFile of program.getSourceFiles()) {
    for (const { specifier } of moduleSpecifiers(sourceFile)) {
      const target = aliasTargets.get(specifier);
      if (target?.endsWith('.d.ts') && target.startsWith(libs) && sourceFile.fileName.startsWith(libs)) {
        plainJs.add(target);
      }
    }
  }
  for (const declarations of plainJs) copyPlainJs(declarations);
}

/** Copies a plain-JS workspace module (`x.js` beside `x.d.ts`) as it is; it must need no other workspace file. */
function copyPlainJs(declarations) {
  const script = declarations.replace(/\.d\.ts$/, '.js');
  if (/require\(['"]\.|from ['"]\./.test(readFileSync(script, 'utf8'))) {
    throw new Error(`${relative(workspace, script)} requires a relative module: copy it too`);
  }
  for (const file of [script, declarations]) {
    const target = join(compiledDir, relative(libs, file));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(file, target);
  }
}

/** package.json: the workspace manifest plus the entry points; a stub `<subpath>/package.json` per other entry serves `moduleResolution: node10`. */
function writeManifests() {
  const entry = (source) => `./${toPosix(relative(outDir, join(compiledDir, relative(libs, source))))}`;
  const exportsMap = {};
  for (const [subpath, source] of Object.entries(ENTRIES)) {
    const base = withoutExtension(entry(source));
    exportsMap[subpath] = { types: `${base}.d.ts`, default: `${base}.js` };
  }
  exportsMap['./package.json'] = './package.json';
  // `private` keeps the workspace copy from being published; the built package is meant to be
  const published = { ...manifest };
  delete published.private;
  const main = exportsMap['.'];
  writeFileSync(
    join(outDir, 'package.json'),
    `${JSON.stringify({ ...published, main: main.default, types: main.types, exports: exportsMap }, null, 2)}\n`,
  );
  for (const subpath of Object.keys(ENTRIES).filter((name) => name !== '.')) {
    const { default: script, types } = exportsMap[subpath];
    mkdirSync(join(outDir, subpath), { recursive: true });
    writeFileSync(
      join(outDir, subpath, 'package.json'),
      `${JSON.stringify({ main: `.${script}`, types: `.${types}` }, null, 2)}\n`,
    );
  }
  copyFileSync(join(workspace, 'libs/auth/README.md'), join(outDir, 'README.md'));
}

/** Fails when an emitted file imports something the package neither contains nor declares. */
function checkImports() {
  const declared = new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
  ]);
  const builtins = new Set(builtinModules);
  const problems = [];
  for (const file of ts.sys.readDirectory(compiledDir, ['.js', '.d.ts'])) {
    const text = readFileSync(file, 'utf8');
    for (const [, specifier] of text.matchAll(/(?:require\(|from |import\()["']([^"']+)["']/g)) {
      if (specifier.startsWith('.')) continue;
      const name = specifier.startsWith('@')
        ? specifier.split('/').slice(0, 2).join('/')
        : specifier.split('/')[0];
      if (builtins.has(name.replace(/^node:/, '')) || declared.has(name)) continue;
      // type-only packages an adopter's compiler resolves from its own dependencies
      if (file.endsWith('.d.ts') && (name === 'fastify' || name === 'express' || name.startsWith('@types/')))
        continue;
      problems.push(`${relative(outDir, file)}: ${specifier}`);
    }
  }
  if (problems.length > 0) throw new Error(`imports the package does not declare:\n${problems.join('\n')}`);
}

rmSync(outDir, { recursive: true, force: true });
compile();
writeManifests();
checkImports();
console.log(`@relay/auth ${manifest.version} built in ${relative(workspace, outDir)}`);
