/**
 * Table lookup, per message, the way the regulations (and ecCodes) choose tables from section 1:
 * the WMO master table of the declared master version, with the local table of the originating
 * centre, sub-centre and local version over it. Built in: every WMO version and every local table
 * that ECMWF ecCodes ships (Apache-2.0, see eccodes.ts), plus the OPERA-format centre-41 (Argentina,
 * SiNaRaMe radars) local tables. Users add their own local tables with {@link createTableProvider}
 * or load OPERA CSV tables with {@link loadBufrTables}.
 */

import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { elementFromRow, parseTableBCsv, parseTableDCsv } from './csv.js';
import { eccodesLocalTables, wmoTables } from './eccodes.js';
import { LOCAL_41_TABLES, LOCAL_41_VERSION_ALIAS, LOCAL_CENTRE } from './generated.js';
import type { BufrTableProvider, BufrTables, ElementDef, TableBRow, TableDRow, TableKey } from './types.js';

export type { BufrTableProvider, BufrTables, ElementDef, TableBRow, TableDRow, TableKey } from './types.js';
export { parseTableBCsv, parseTableDCsv } from './csv.js';
export { TableParseError } from '../../errors.js';
export { eccodesLocalTables, eccodesTablesSource, wmoTables, wmoVersions } from './eccodes.js';

/** Builds lookup maps from row lists. Later lists override earlier ones (local over master). */
export function buildTables(
  b: readonly (readonly TableBRow[])[],
  d: readonly (readonly TableDRow[])[],
): BufrTables {
  const bMap = new Map<number, ElementDef>();
  for (const rows of b) for (const row of rows) bMap.set(row[0], elementFromRow(row));
  const dMap = new Map<number, readonly number[]>();
  for (const rows of d) for (const [code, members] of rows) dMap.set(code, members);
  return { b: bMap, d: dMap };
}

/** Merges table sets; later sets override earlier ones entry by entry. */
export function mergeTables(...sets: readonly BufrTables[]): BufrTables {
  const b = new Map<number, ElementDef>();
  const d = new Map<number, readonly number[]>();
  for (const s of sets) {
    for (const [k, v] of s.b) b.set(k, v);
    for (const [k, v] of s.d) d.set(k, v);
  }
  return { b, d };
}

const EMPTY: BufrTables = { b: new Map(), d: new Map() };
const local41 = new Map<number, BufrTables>();

/** The WMO master tables B and D, version 16 (the version the radar files declare). */
export function masterTables(): BufrTables {
  return wmoTables(16) ?? EMPTY;
}

/** The OPERA-format centre-41 local tables for a local version (1 and 2 are identical). */
function opera41(localTableVersion: number): BufrTables | undefined {
  const alias = LOCAL_41_VERSION_ALIAS[localTableVersion];
  const rows = alias === undefined ? undefined : LOCAL_41_TABLES[alias];
  if (alias === undefined || rows === undefined) return undefined;
  let t = local41.get(alias);
  if (t === undefined) {
    t = buildTables([rows.b], [rows.d]);
    local41.set(alias, t);
  }
  return t;
}

/** A user's local tables and the section-1 fields that select them. */
export interface LocalTablesEntry {
  centre: number;
  /** Only for this sub-centre. @default any */
  subCentre?: number;
  /** Only for this local table version. @default any */
  localTableVersion?: number;
  tables: BufrTables;
}

/** Options of {@link createTableProvider}: where local tables come from. */
export interface TableProviderOptions {
  /** Local tables to use before the built-in ones; the first entry that matches wins. */
  local?: readonly LocalTablesEntry[];
}

/**
 * A table provider: the WMO master table of the message's master version, with a local table
 * over it, picked in this order: the first of `options.local` that matches the message's
 * centre / sub-centre / local version; centre 41's OPERA tables; ecCodes' local table for that
 * local version, centre and sub-centre. A message with local version 0 uses the master table
 * alone. `undefined` (the decoder then fails with a typed error) when no master table of that
 * version exists. Each combination is built once and cached.
 *
 * @example
 * const ncep = await loadBufrTables({ tableB: ['localtabb_7_1.csv'], tableD: ['localtabd_7_1.csv'], includeMaster: false });
 * const tables = createTableProvider({ local: [{ centre: 7, tables: ncep }] });
 * const entries = await decodeBufrFile('prepbufr.bufr', { tables });
 */
export function createTableProvider(options: TableProviderOptions = {}): BufrTableProvider {
  const cache = new Map<string, BufrTables | null>();
  return (key: TableKey) => {
    const id = `${key.masterTable}/${key.masterTableVersion}/${key.centre}/${key.subCentre}/${key.localTableVersion}`;
    let t = cache.get(id);
    if (t === undefined) {
      t = resolve(key, options.local ?? []) ?? null;
      cache.set(id, t);
    }
    return t ?? undefined;
  };
}

function resolve(key: TableKey, user: readonly LocalTablesEntry[]): BufrTables | undefined {
  const master = wmoTables(key.masterTableVersion, key.masterTable);
  if (master === undefined) return undefined;
  const mine = user.find(
    (e) =>
      e.centre === key.centre &&
      (e.subCentre === undefined || e.subCentre === key.subCentre) &&
      (e.localTableVersion === undefined || e.localTableVersion === key.localTableVersion),
  );
  const local =
    mine?.tables ??
    (key.localTableVersion === 0
      ? undefined
      : ((key.centre === LOCAL_CENTRE ? opera41(key.localTableVersion) : undefined) ??
        eccodesLocalTables(
          key.masterTable,
          key.masterTableVersion,
          key.localTableVersion,
          key.centre,
          key.subCentre,
        )));
  return local === undefined ? master : mergeTables(master, local);
}

/** The provider `decodeBufr` uses when given no tables: built-in tables only. */
export const defaultTableProvider: BufrTableProvider = createTableProvider();

/** Paths of OPERA-format CSV tables to load; every list is applied in order (later wins). */
export interface TableFiles {
  tableB: readonly string[];
  tableD: readonly string[];
  /** Also include the built-in WMO master table version 16 underneath. @default true */
  includeMaster?: boolean;
}

function fromTexts(files: TableFiles, bTexts: string[], dTexts: string[]): BufrTables {
  const loaded = buildTables(
    bTexts.map((t, i) => parseTableBCsv(t, files.tableB[i])),
    dTexts.map((t, i) => parseTableDCsv(t, files.tableD[i])),
  );
  return files.includeMaster === false ? loaded : mergeTables(masterTables(), loaded);
}

/**
 * Loads tables from OPERA CSV files, e.g. another centre's `localtabb_<c>_<v>.csv`.
 * Pass the result as `decodeBufr(bytes, { tables })`.
 *
 * @example
 * const tables = await loadBufrTables({ tableB: ['localtabb_85_1.csv'], tableD: ['localtabd_85_1.csv'] });
 */
export async function loadBufrTables(files: TableFiles): Promise<BufrTables> {
  const bTexts = await Promise.all(files.tableB.map((p) => readFile(p, 'utf8')));
  const dTexts = await Promise.all(files.tableD.map((p) => readFile(p, 'utf8')));
  return fromTexts(files, bTexts, dTexts);
}

/** Synchronous twin of {@link loadBufrTables}. */
export function loadBufrTablesSync(files: TableFiles): BufrTables {
  return fromTexts(
    files,
    files.tableB.map((p) => readFileSync(p, 'utf8')),
    files.tableD.map((p) => readFileSync(p, 'utf8')),
  );
}
