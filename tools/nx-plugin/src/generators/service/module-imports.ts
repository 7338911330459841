import * as ts from 'typescript';

/**
 * `source` (the file at `path`) with `moduleName` imported from `importPath` and put first in the
 * `imports` of its `@Module({...})` class: the one edit `--existing` makes to code the app owns.
 * Throws when the file has no `@Module({...})` whose `imports` is an array literal or absent.
 */
export function addToModuleImports(
  path: string,
  source: string,
  moduleName: string,
  importPath: string,
): string {
  const file = ts.createSourceFile(path, source, ts.ScriptTarget.Latest, true);
  const metadata = moduleMetadata(file);
  if (metadata === undefined) throw new Error(`${path} has no @Module({...}) class.`);
  const imports = metadata.properties.find(
    (property): property is ts.PropertyAssignment =>
      ts.isPropertyAssignment(property) && property.name.getText(file) === 'imports',
  );
  const edits: Array<{ at: number; text: string }> = [];
  if (imports === undefined) {
    edits.push({ at: metadata.getStart(file) + 1, text: ` imports: [${moduleName}],` });
  } else if (ts.isArrayLiteralExpression(imports.initializer)) {
    const separator = imports.initializer.elements.length > 0 ? ', ' : '';
    edits.push({ at: imports.initializer.getStart(file) + 1, text: `${moduleName}${separator}` });
  } else {
    throw new Error(`The @Module imports of ${path} are not an array literal: add ${moduleName} by hand.`);
  }
  const lastImport = file.statements.filter(ts.isImportDeclaration).at(-1);
  const declaration = `import { ${moduleName} } from '${importPath}';\n`;
  edits.push(
    lastImport ? { at: lastImport.getEnd(), text: `\n${declaration}` } : { at: 0, text: declaration },
  );
  return edits
    .sort((a, b) => b.at - a.at)
    .reduce((text, edit) => text.slice(0, edit.at) + edit.text + text.slice(edit.at), source);
}

/** The object literal of the first `@Module({...})` decorator in `file`. */
function moduleMetadata(file: ts.SourceFile): ts.ObjectLiteralExpression | undefined {
  for (const statement of file.statements) {
    if (!ts.isClassDeclaration(statement)) continue;
    for (const decorator of ts.getDecorators(statement) ?? []) {
      const call = decorator.expression;
      if (!ts.isCallExpression(call) || call.expression.getText(file) !== 'Module') continue;
      const [argument] = call.arguments;
      if (argument !== undefined && ts.isObjectLiteralExpression(argument)) return argument;
    }
  }
  return undefined;
}
