/**
 * Compressed data (FM 94 regulation 94.6.3) stores each element once for all subsets: a reference
 * value and per-subset increments. The decoder keeps that shape, one column per element, with the
 * per-subset numbers in a Float64Array, so a 1000-subset satellite message costs a few typed arrays
 * instead of a quarter of a million objects. The per-subset item lists are built from the columns
 * only when `message.subsets` is first read.
 */

import type { DataItem, OperatorItem, ValueItem } from './decoder.js';

/** One element (or operator marker) of a compressed message, for every subset at once. */
export interface BufrColumn {
  kind: 'value' | 'operator';
  /** FXXYYY, as in `ValueItem.descriptor`. */
  descriptor: number;
  bitOffset: number;
  /** The value every subset shares (`null` = missing), or `undefined` when it varies. */
  constant?: number | string | null;
  /** Per-subset numbers when they vary; `NaN` marks a missing value. */
  numbers?: Float64Array;
  /** Per-subset strings when they vary (`null` = missing). */
  texts?: (string | null)[];
  /** 2 04 associated field per subset, with the 0 31 021 significance in force per subset. */
  associated?: { values: number[]; significance: (number | null)[] };
  /** As `ValueItem.refersTo` (the same in every subset). */
  refersTo?: number;
}

/** The value of `column` in subset `s` (`null` = missing). */
export function columnValue(column: BufrColumn, s: number): number | string | null {
  if (column.constant !== undefined) return column.constant;
  if (column.numbers !== undefined) {
    const v = column.numbers[s] as number;
    return v !== v ? null : v;
  }
  return column.texts?.[s] ?? null;
}

/** Builds the per-subset item lists; items the subsets share are one object. */
export function materialize(columns: readonly BufrColumn[], nsub: number): DataItem[][] {
  const shared: (ValueItem | OperatorItem | null)[] = columns.map((c) => {
    if (c.kind === 'operator') return { kind: 'operator', descriptor: c.descriptor, bitOffset: c.bitOffset };
    if (c.constant === undefined || c.associated !== undefined) return null;
    const item: ValueItem = {
      kind: 'value',
      descriptor: c.descriptor,
      value: c.constant,
      bitOffset: c.bitOffset,
    };
    if (c.refersTo !== undefined) item.refersTo = c.refersTo;
    return item;
  });
  const out: DataItem[][] = [];
  for (let s = 0; s < nsub; s++) {
    const items: DataItem[] = new Array<DataItem>(columns.length);
    for (let k = 0; k < columns.length; k++) {
      const c = columns[k] as BufrColumn;
      const one = shared[k];
      if (one !== null && one !== undefined) {
        items[k] = one;
        continue;
      }
      const item: ValueItem = {
        kind: 'value',
        descriptor: c.descriptor,
        value: columnValue(c, s),
        bitOffset: c.bitOffset,
      };
      if (c.associated !== undefined) {
        item.associated = {
          value: c.associated.values[s] as number,
          significance: c.associated.significance[s] ?? null,
        };
      }
      if (c.refersTo !== undefined) item.refersTo = c.refersTo;
      items[k] = item;
    }
    out.push(items);
  }
  return out;
}
