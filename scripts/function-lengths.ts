/**
 * Lists the longest functions under src/ (lines from declaration to closing brace), measured with
 * the TypeScript compiler API, so a refactor can show its before and after.
 *
 *   node --import tsx scripts/function-lengths.ts [--top 15] [--dir src]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import ts from 'typescript';

const { values } = parseArgs({
  options: { top: { type: 'string', default: '15' }, dir: { type: 'string', default: 'src' } },
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** A readable name for a function-like node: its declared name, or the variable/property it is assigned to. */
function nameOf(node: ts.FunctionLikeDeclaration): string {
  if (node.name !== undefined && !ts.isComputedPropertyName(node.name)) return node.name.getText();
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) return parent.name.getText();
  return '(anonymous)';
}

interface FunctionLength {
  file: string;
  name: string;
  lines: number;
}

const found: FunctionLength[] = [];
for (const file of sourceFiles(values.dir)) {
  if (file.includes(`tables${'/'}generated`)) continue; // generated data, not code
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      found.push({ file: relative(values.dir, file), name: nameOf(node), lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}

found.sort((a, b) => b.lines - a.lines);
for (const f of found.slice(0, Number(values.top)))
  console.log(`${String(f.lines).padStart(5)}  ${f.name} (${f.file})`);
