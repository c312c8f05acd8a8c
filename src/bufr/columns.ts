/**
 * Compressed data (FM 94 regulation 94.6.3) stores each element once for all subsets: a reference
 * value and per-subset increments. The decoder keeps that shape, one column per element, with the
 * per-subset numbers in a Float64Array, so a 1000-subset satellite message costs a few typed arrays
 * instead of a quarter of a million objects. The per-subset item lists are built from the columns
 * only when `message.subsets` is first read.
 */

import type { DataItem, ValueItem } from './decoder.js';

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

/** `numbers` of a column whose numbers are still in the scratch store (during the walk only). */
export const PENDING_NUMBERS = new Float64Array(0);

/** A scratch buffer kept between messages (decoding is synchronous: one user at a time). */
let spare: Float64Array | null = null;
/** Scratch buffers larger than this (32 MiB) are not kept after the message. */
const MAX_SPARE = 1 << 22;

/**
 * The per-subset numbers of one message's varying columns. During the walk they go into one
 * scratch buffer reused from message to message; {@link finish} copies them into one exact-size
 * Float64Array and gives each column its view. One ArrayBuffer per message, not per column: an
 * allocation per column (and the collector's work for that external memory) was half of the time
 * of decoding a small compressed message.
 */
export class ColumnNumbers {
  /** The scratch buffer; write a column's numbers at the offset {@link reserve} returns. */
  buffer: Float64Array;
  private used = 0;
  private readonly pending: BufrColumn[] = [];
  private readonly offsets: number[] = [];

  constructor() {
    this.buffer = spare ?? new Float64Array(4096);
    spare = null;
  }

  /** Room for `n` numbers of `column`; returns their offset in {@link buffer}. */
  reserve(column: BufrColumn, n: number): number {
    const at = this.used;
    if (at + n > this.buffer.length) {
      const grown = new Float64Array(Math.max(at + n, 2 * this.buffer.length));
      grown.set(this.buffer.subarray(0, at));
      this.buffer = grown;
    }
    this.used = at + n;
    this.pending.push(column);
    this.offsets.push(at);
    return at;
  }

  /** Subset `s` of the column reserved last, before {@link finish} (`null` = missing). */
  lastValue(s: number): number | null {
    const v = this.buffer[(this.offsets.at(-1) as number) + s] as number;
    return v !== v ? null : v;
  }

  /** Gives every reserved column its numbers and returns the scratch buffer for the next message. */
  finish(): void {
    if (this.used > 0) {
      const all = this.buffer.slice(0, this.used);
      const n = this.pending.length;
      for (let k = 0; k < n; k++) {
        const at = this.offsets[k] as number;
        const end = k + 1 < n ? (this.offsets[k + 1] as number) : this.used;
        // A view made from the buffer directly: cheaper than subarray(), which looks up a species.
        (this.pending[k] as BufrColumn).numbers = new Float64Array(all.buffer, at * 8, end - at);
      }
    }
    if (this.buffer.length <= MAX_SPARE) spare = this.buffer;
  }
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

const PLACEHOLDER: ValueItem = { kind: 'value', descriptor: 0, value: null, bitOffset: 0 };

/**
 * Builds the per-subset item lists; items the subsets share are one object. Each list starts as
 * a copy of one template holding the shared items (one block copy), then gets a new item for
 * each column whose value varies between subsets.
 */
export function materialize(columns: readonly BufrColumn[], nsub: number): DataItem[][] {
  const template: DataItem[] = [];
  const varying: number[] = [];
  for (let k = 0; k < columns.length; k++) {
    const c = columns[k] as BufrColumn;
    if (c.kind === 'operator') {
      template.push({ kind: 'operator', descriptor: c.descriptor, bitOffset: c.bitOffset });
    } else if (c.constant === undefined || c.associated !== undefined) {
      // Replaced in every subset; an item of the same shape keeps the template's elements packed.
      template.push(PLACEHOLDER);
      varying.push(k);
    } else {
      const item: ValueItem = {
        kind: 'value',
        descriptor: c.descriptor,
        value: c.constant,
        bitOffset: c.bitOffset,
      };
      if (c.refersTo !== undefined) item.refersTo = c.refersTo;
      template.push(item);
    }
  }
  const out: DataItem[][] = new Array<DataItem[]>(nsub);
  for (let s = 0; s < nsub; s++) {
    const items = template.slice();
    for (let v = 0; v < varying.length; v++) {
      const k = varying[v] as number;
      const c = columns[k] as BufrColumn;
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
    out[s] = items;
  }
  return out;
}
