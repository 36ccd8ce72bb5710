// Dependencies run one way: no import circle in src/, machines/ or adapters/ (issue 22). The graph
// comes from dpdm (a well-kept import-cycle checker) with type-only imports kept: a type circle
// is still two modules that cannot be read, moved or tested apart. dpdm does not see inline type
// references (`import('./x.js').T`), so those edges are added here from the TypeScript parser.
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import ts from 'typescript';
import { parseCircular, parseDependencyTree, type Dependency, type DependencyTree } from 'dpdm';

const ROOT = resolve(import.meta.dirname, '..', '..');
const TREES = ['src/**/*.ts', 'machines/**/*.ts', 'adapters/**/*.ts'];

/** `import('./x.js')` in type positions, resolved to the .ts file it names. */
function inlineTypeImports(file: string, text = readFileSync(join(ROOT, file), 'utf8')): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      const request = node.argument.literal.text;
      if (request.startsWith('.')) out.push(relative(ROOT, resolve(dirname(join(ROOT, file)), request)).replace(/\.js$/, '.ts'));
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

async function importGraph(): Promise<DependencyTree> {
  const tree = await parseDependencyTree(TREES, { context: ROOT, cwd: ROOT, transform: false, tsconfig: join(ROOT, 'tsconfig.json') });
  const graph: Record<string, Dependency[] | null> = {};
  for (const [file, deps] of Object.entries(tree)) {
    if (deps === null) {
      graph[file] = null;
      continue;
    }
    const extra = file.endsWith('.ts') && !file.includes('node_modules') ? inlineTypeImports(file) : [];
    graph[file] = [...deps, ...extra.map((id) => ({ issuer: file, request: id, kind: 'StaticImport', id }) as Dependency)];
  }
  return graph;
}

describe('architecture: imports', () => {
  it('no import circle (type-only and inline type imports included), listed if any', async () => {
    const graph = await importGraph();
    // The walk reached the three trees (a glob that matched nothing would prove nothing).
    const files = Object.keys(graph);
    for (const dir of ['src/', 'machines/', 'adapters/']) expect(files.some((f) => f.startsWith(dir)), dir).toBe(true);
    const circles = parseCircular(graph).map((c) => c.join(' -> '));
    expect(circles).toEqual([]);
  });

  it('inline type references count as edges (dpdm alone does not see them)', () => {
    const text = "type A = import('./turn.js').Turn;\nlet b: typeof import('../../adapters/inspector.js') | null = null;\nconst c = import('./lazy.js');";
    expect(inlineTypeImports('src/conversation/x.ts', text)).toEqual(['src/conversation/turn.ts', 'adapters/inspector.ts']);
  });
});
