/**
 * Generates src/bufr/tables/eccodes-data.ts: every WMO master table version and every local
 * table that ECMWF ecCodes ships, as one brotli-compressed blob (base64 in a TS module, so the
 * package needs no data-file copying and no native code).
 *
 *   node --import tsx scripts/gen-bufr-eccodes-tables.ts [definitionsTablesDir]
 *
 * Source: ecCodes' BUFR definition files (Debian `libeccodes-data`, default
 * /usr/share/eccodes/definitions/bufr/tables), © ECMWF, Apache License 2.0. Layout read:
 * `<masterTable>/wmo/<version>/{element.table,sequence.def}` and
 * `<masterTable>/local/<localVersion>/<centre>/<subCentre>/{element.table,sequence.def}` (for
 * master version 19, `local/19-<localVersion>/...`, as ecCodes' section.3.def does).
 *
 * The blob is JSON: every distinct table B row and table D row is stored once (rows repeat across
 * the 34 WMO versions), and each table lists the row numbers it holds, delta-encoded.
 */

import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants } from 'node:zlib';
import type { EccodesTablesBlob } from '../src/bufr/tables/eccodes.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(process.argv[2] ?? '/usr/share/eccodes/definitions/bufr/tables');
const outFile = path.join(repoRoot, 'src', 'bufr', 'tables', 'eccodes-data.ts');

type BRow = [code: number, name: string, unit: string, scale: number, reference: number, width: number];
type DRow = [code: number, members: number[]];

const bPool: BRow[] = [];
const bIndex = new Map<string, number>();
const dPool: DRow[] = [];
const dIndex = new Map<string, number>();

function intern<T>(pool: T[], index: Map<string, number>, row: T): number {
  const key = JSON.stringify(row);
  let i = index.get(key);
  if (i === undefined) {
    i = pool.length;
    pool.push(row);
    index.set(key, i);
  }
  return i;
}

/** Sorted row numbers -> first value, then differences (small numbers compress well). */
function deltas(rows: number[]): number[] {
  const sorted = [...new Set(rows)].sort((a, b) => a - b);
  return sorted.map((v, i) => (i === 0 ? v : v - (sorted[i - 1] as number)));
}

function readElements(file: string): number[] {
  const rows: number[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const f = line.split('|');
    const code = Number(f[0]);
    const [scale, reference, width] = [Number(f[5]), Number(f[6]), Number(f[7])];
    if (![code, scale, reference, width].every(Number.isInteger))
      throw new Error(`${file}: bad line ${line}`);
    rows.push(intern(bPool, bIndex, [code, f[3] ?? '', f[4] ?? '', scale, reference, width]));
  }
  return rows;
}

function readSequences(file: string): number[] {
  const rows: number[] = [];
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/"(\d{6})"\s*=\s*\[([^\]]*)\]/g)) {
    const members = (m[2] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map(Number);
    rows.push(intern(dPool, dIndex, [Number(m[1]), members]));
  }
  return rows;
}

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};
const exists = (p: string): boolean => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

/** One table directory -> [B row deltas, D row deltas]. */
function tableDir(dir: string): [number[], number[]] {
  const b = exists(path.join(dir, 'element.table')) ? readElements(path.join(dir, 'element.table')) : [];
  const d = exists(path.join(dir, 'sequence.def')) ? readSequences(path.join(dir, 'sequence.def')) : [];
  return [deltas(b), deltas(d)];
}

const numeric = (names: string[]): string[] =>
  names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));

const wmo: EccodesTablesBlob['wmo'] = {};
const local: EccodesTablesBlob['local'] = {};
for (const master of numeric(readdirSync(root).filter((n) => /^\d+$/.test(n) && isDir(path.join(root, n))))) {
  for (const version of numeric(readdirSync(path.join(root, master, 'wmo')))) {
    const dir = path.join(root, master, 'wmo', version);
    if (isDir(dir)) wmo[`${master}/${version}`] = tableDir(dir);
  }
  const localRoot = path.join(root, master, 'local');
  if (!isDir(localRoot)) continue;
  // local/<localVersion or master-local>/<centre>/<subCentre>
  for (const lv of numeric(readdirSync(localRoot))) {
    for (const centre of numeric(readdirSync(path.join(localRoot, lv)))) {
      for (const sub of numeric(readdirSync(path.join(localRoot, lv, centre)))) {
        const dir = path.join(localRoot, lv, centre, sub);
        if (isDir(dir) && (exists(path.join(dir, 'element.table')) || exists(path.join(dir, 'sequence.def'))))
          local[`${master}/${lv}/${centre}/${sub}`] = tableDir(dir);
      }
    }
  }
}

const blob: EccodesTablesBlob = {
  source: `ECMWF ecCodes BUFR definitions (${root}), Apache License 2.0`,
  b: bPool,
  d: dPool,
  wmo,
  local,
};
const compressed = brotliCompressSync(Buffer.from(JSON.stringify(blob)), {
  params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_LGWIN]: 24 },
});
const base64 = compressed.toString('base64');
// Spelled as patterns so that this line does not read as a marker itself.
const MARKER_WORDS = /X{3}|TO[D]O|FIX[M]E/;
const lines = chunkAvoiding(base64, 100, MARKER_WORDS).map((chunk) => `  '${chunk}' +`);
writeFileSync(
  outFile,
  [
    '// Generated by scripts/gen-bufr-eccodes-tables.ts. Do not edit by hand.',
    '// BUFR tables B and D of every WMO master version and every local table shipped by ECMWF',
    '// ecCodes (definitions/bufr/tables, Debian libeccodes-data), © ECMWF, Apache License 2.0',
    '// (http://www.apache.org/licenses/LICENSE-2.0). Brotli-compressed JSON, base64; see',
    '// src/bufr/tables/eccodes.ts for the layout.',
    '// prettier-ignore',
    'export const ECCODES_TABLES_BROTLI_BASE64 =',
    ...lines,
    "  '';",
    '',
  ].join('\n'),
);
console.log(
  `wrote ${path.relative(repoRoot, outFile)}: ${Object.keys(wmo).length} WMO, ${Object.keys(local).length} local tables, ` +
    `${bPool.length} B rows, ${dPool.length} D rows, ${compressed.length} bytes compressed`,
);

/**
 * Cuts `text` into chunks of at most `width` characters, none matching `words`: base64 happens to
 * spell a marker word now and then, and a line holding one reads as a left-over marker to the
 * repository's checks. A chunk that would hold a word ends just after its first character.
 */
function chunkAvoiding(text: string, width: number, words: RegExp): string[] {
  const chunks: string[] = [];
  for (let start = 0; start < text.length;) {
    let end = Math.min(start + width, text.length);
    const at = words.exec(text.slice(start, end))?.index;
    if (at !== undefined) end = start + at + 1;
    chunks.push(text.slice(start, end));
    start = end;
  }
  return chunks;
}
