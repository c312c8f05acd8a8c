/**
 * The direction of the imports (docs/ARCHITECTURE.md): each top-level part of src/ imports only
 * parts on a lower layer, never one on its own layer or above. Fails naming every import that
 * points the wrong way, so `src/ftp` or `src/bufr` reaching into `src/daemon` or `src/web` is
 * caught the day it is written.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Lowest first. A part may import only from parts on a lower layer (and from itself). */
export const LAYERS: readonly (readonly string[])[] = [
  ['errors'],
  ['util'],
  ['radar'],
  ['bufr', 'ftp', 'ledger'],
  ['sftp', 'render'],
  ['observe'],
  ['daemon'],
  ['web'],
  ['demo'],
  ['cli'],
  ['index'],
];

/**
 * Known upward imports, each with why it is still there. Type-only, so nothing loads at run
 * time; listed so that no new one slips in unseen.
 */
const KNOWN_UPWARD = new Map<string, string>([]);

function layerOf(part: string): number {
  const i = LAYERS.findIndex((layer) => layer.includes(part));
  assert.notEqual(i, -1, `src/${part} is on no layer: add it to LAYERS and docs/ARCHITECTURE.md`);
  return i;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The part of src/ a path belongs to: its first folder, or the file name for top-level files. */
function partOf(root: string, path: string): string {
  const first = relative(root, path).split('/')[0] ?? '';
  return first.replace(/\.(ts|js)$/, '');
}

interface Edge {
  file: string;
  from: string;
  to: string;
  typeOnly: boolean;
}

/** Every relative import and re-export (static or dynamic) of one file, between parts. */
function edgesOf(root: string, file: string): Edge[] {
  const text = readFileSync(file, 'utf8');
  const edges: Edge[] = [];
  const pattern =
    /\b(?:import|export)\s+(type\s+)?[^;'"]*?\bfrom\s+'(\.[^']+)'|\bimport\(\s*'(\.[^']+)'\s*\)/g;
  for (const m of text.matchAll(pattern)) {
    const spec = m[2] ?? m[3];
    if (spec === undefined) continue;
    const target = resolve(dirname(file), spec);
    const from = partOf(root, file);
    const to = partOf(root, target);
    if (from !== to) edges.push({ file: relative(root, file), from, to, typeOnly: m[1] !== undefined });
  }
  return edges;
}

/** Imports of the tree under `root` that point to the same or a higher layer. */
function wrongImports(root: string): { wrong: string[]; seenKnown: Set<string> } {
  const wrong: string[] = [];
  const seenKnown = new Set<string>();
  for (const file of sourceFiles(root)) {
    for (const e of edgesOf(root, file)) {
      if (layerOf(e.to) < layerOf(e.from)) continue;
      const key = `${e.file} -> ${e.to}`;
      if (e.typeOnly && KNOWN_UPWARD.has(key)) {
        seenKnown.add(key);
        continue;
      }
      wrong.push(`${e.file} imports src/${e.to} (layer ${layerOf(e.to)} >= ${layerOf(e.from)})`);
    }
  }
  return { wrong, seenKnown };
}

test('every import in src/ points to a lower layer', () => {
  assert.ok(sourceFiles(SRC).length > 50, `source files under ${SRC}`);
  const { wrong, seenKnown } = wrongImports(SRC);
  assert.deepEqual(wrong, [], `imports against the layer order:\n${wrong.join('\n')}`);
  for (const key of KNOWN_UPWARD.keys()) {
    assert.ok(seenKnown.has(key), `${key} is gone: drop it from KNOWN_UPWARD`);
  }
});

test('the check names an ftp file importing the daemon, and a peer import on one layer', () => {
  const root = mkdtempSync(join(tmpdir(), 'radarlib-layers-'));
  try {
    for (const dir of ['ftp', 'daemon', 'bufr']) mkdirSync(join(root, dir));
    writeFileSync(join(root, 'daemon/d.ts'), "import { x } from '../ftp/x.js';\nexport const d = x;\n");
    writeFileSync(
      join(root, 'ftp/x.ts'),
      "import type {\n  D,\n} from '../daemon/d.js';\nexport const x = 1;\nexport const later = () => import('../bufr/b.js');\n",
    );
    writeFileSync(
      join(root, 'bufr/b.ts'),
      "import { errorText } from '../errors.js';\nexport { errorText };\n",
    );
    writeFileSync(join(root, 'errors.ts'), 'export const errorText = 1;\n');
    assert.deepEqual(wrongImports(root).wrong, [
      'ftp/x.ts imports src/daemon (layer 6 >= 3)',
      'ftp/x.ts imports src/bufr (layer 3 >= 3)',
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
