/**
 * Table lookup: the built-in WMO master table (version 16) and the centre-41 local tables
 * (versions 1 and 2), plus loaders for other centres' tables in the same OPERA CSV format.
 */

import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { elementFromRow, parseTableBCsv, parseTableDCsv } from './csv.js';
import {
  LOCAL_41_TABLES,
  LOCAL_41_VERSION_ALIAS,
  LOCAL_CENTRE,
  MASTER_B_16,
  MASTER_D_16,
} from './generated.js';
import type { BufrTableProvider, BufrTables, ElementDef, TableBRow, TableDRow, TableKey } from './types.js';

export type { BufrTableProvider, BufrTables, ElementDef, TableBRow, TableDRow, TableKey } from './types.js';
export { parseTableBCsv, parseTableDCsv, TableParseError } from './csv.js';

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

let master: BufrTables | undefined;
const local41 = new Map<number, BufrTables>();

/** The built-in WMO master tables B and D, version 16. */
export function masterTables(): BufrTables {
  master ??= buildTables([MASTER_B_16], [MASTER_D_16]);
  return master;
}

/**
 * The default provider: WMO master table 16 for every message (WMO tables only ever add
 * entries, so older versions decode with it), merged with centre 41's local tables when the
 * message names centre 41 and a local version we have (1 or 2, which are identical).
 */
export const defaultTableProvider: BufrTableProvider = (key: TableKey) => {
  if (key.masterTable !== 0) return undefined;
  if (key.centre !== LOCAL_CENTRE || key.localTableVersion === 0) return masterTables();
  const alias = LOCAL_41_VERSION_ALIAS[key.localTableVersion];
  if (alias === undefined) return masterTables();
  let t = local41.get(alias);
  if (t === undefined) {
    const rows = LOCAL_41_TABLES[alias];
    if (rows === undefined) return masterTables();
    t = mergeTables(masterTables(), buildTables([rows.b], [rows.d]));
    local41.set(alias, t);
  }
  return t;
};

/** Paths of OPERA-format CSV tables to load; every list is applied in order (later wins). */
export interface TableFiles {
  tableB: readonly string[];
  tableD: readonly string[];
  /** Also include the built-in master table 16 underneath. @default true */
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
