/**
 * Table B / table D as data. Descriptors are the integer FXXYYY (F * 100000 + X * 1000 + Y), so
 * `3 21 204` is 321204 and `0 01 001` is 1001.
 */

/** One table B row as stored in the generated module: [code, name, unit, scale, reference, width]. */
export type TableBRow = readonly [
  code: number,
  name: string,
  unit: string,
  scale: number,
  reference: number,
  width: number,
];

/** One table D row as stored in the generated module: [code, members]. */
export type TableDRow = readonly [code: number, members: readonly number[]];

/** An element descriptor (F = 0) with its unit, scale, reference value and width in bits. */
export interface ElementDef {
  readonly code: number;
  readonly name: string;
  readonly unit: string;
  readonly scale: number;
  readonly reference: number;
  readonly width: number;
  /** Unit is `CCITT IA5`: the value is a string of width / 8 characters. */
  readonly isText: boolean;
  /** Unit is a code or flag table: operators 2 01, 2 02 and 2 07 do not apply. */
  readonly isCodeOrFlag: boolean;
}

/** A resolved set of tables B and D, as used by one decode. */
export interface BufrTables {
  readonly b: ReadonlyMap<number, ElementDef>;
  readonly d: ReadonlyMap<number, readonly number[]>;
}

/** What section 1 says about the tables a message needs. */
export interface TableKey {
  masterTable: number;
  masterTableVersion: number;
  centre: number;
  subCentre: number;
  localTableVersion: number;
}

/**
 * Picks the tables for a message. Return `undefined` when nothing fits; the decoder then reports
 * the first descriptor it cannot find.
 */
export type BufrTableProvider = (key: TableKey) => BufrTables | undefined;
