/**
 * The generic BUFR decoder: sections, then the descriptor walk over section 4.
 *
 * The walk expands sequences (F = 3) from table D, replicates (F = 1: fixed, delayed with
 * 0 31 001 / 0 31 002 / 0 31 000), applies the operators (F = 2: 2 01-2 08, 2 21-2 37 and
 * 2 41-2 43, see operators.ts and bitmap.ts) and reads elements (F = 0) from table B, for
 * uncompressed and compressed subsets. Anything else (delayed repetition, other operators) is a
 * `BufrUnsupportedError` naming the descriptor, never a wrong value.
 */

import { BufrFormatError, BufrUnsupportedError } from '../errors.js';
import { allOnes, BitReader, MAX_NUMERIC_BITS } from './bit-reader.js';
import { descriptorF, descriptorX, descriptorY, formatDescriptor } from './descriptors.js';
import { BitmapTracker, isBitmapDescriptor, type BitmapTarget } from './bitmap.js';
import { ColumnNumbers, columnValue, materialize, PENDING_NUMBERS, type BufrColumn } from './columns.js';
import {
  ASSOCIATED_FIELD_SIGNIFICANCE,
  applyOperator,
  associatedWidth,
  differencePlan,
  elementPlan,
  FACTOR_DESCRIPTORS,
  isEventOperator,
  newDecodeState,
  pow10,
  scaled,
  type DecodeState,
  type ElementPlan,
} from './operators.js';
import { readSections, type Section1, type Section3 } from './sections.js';
import { defaultTableProvider } from './tables/index.js';
import type { BufrTableProvider, BufrTables, ElementDef } from './tables/types.js';

/** One decoded element (or a 2 05 YYY character insert, or a 2 xx 255 marker's value). */
export interface ValueItem {
  kind: 'value';
  /**
   * FXXYYY, e.g. 2135 for `0 02 135`. Also 205YYY for inserted characters (2 05 YYY) and 223255 /
   * 224255 / 225255 / 232255 for substituted, statistical and retained values (see `refersTo`).
   */
  descriptor: number;
  /**
   * Number (scaled), string (CCITT IA5: trailing spaces/NULs kept unless `strings: 'trim'`), or
   * `null` = missing. Replication factors and data-present bits (0 31 031) are never missing.
   */
  value: number | string | null;
  /** Bit offset of the field from the start of the message. */
  bitOffset: number;
  /**
   * 2 04 YYY: the associated field read before this element (a raw integer, never missing) and the
   * 0 31 021 significance in force.
   */
  associated?: { value: number; significance: number | null };
  /**
   * For values related to earlier data through a data present bit-map (class 33 quality
   * information after 2 22 000 and the 2 xx 255 markers): the index, in this subset's items, of
   * the element the value belongs to.
   */
  refersTo?: number;
}

/**
 * A data-description operator that marks where related data start or how a bit-map is used
 * (2 22 000-2 37 255), or where an event, a conditioning event or categorical forecast values
 * start and end (2 41 000 / 255, 2 42 000 / 255, 2 43 000 / 255). It carries no value; it is
 * there so that the items line up with the descriptors (and with ecCodes' listing).
 */
export interface OperatorItem {
  kind: 'operator';
  descriptor: number;
  bitOffset: number;
}

/**
 * A replicated 8-bit element with scale 0 and reference 0 (e.g. `0 30 198`, a byte of a
 * compressed array), returned as one run instead of one item per byte. The bytes are the raw
 * field values: 255 is the BUFR "missing" pattern and is kept as 255. Only in uncompressed data.
 */
export interface BytesItem {
  kind: 'bytes';
  descriptor: number;
  /** Number of bytes in the run. */
  length: number;
  /** The bytes, or `null` when decoded with `deferByteRuns` (then use {@link copyByteRun}). */
  bytes: Uint8Array | null;
  bitOffset: number;
}

/** One item of a message's data section: a numeric value, the bytes of a compressed payload, or an operator's. */
export type DataItem = ValueItem | BytesItem | OperatorItem;

/** Options of {@link decodeBufr}. */
export interface DecodeBufrOptions {
  /** File name or label used in error messages. @default '<bytes>' */
  file?: string;
  /**
   * Tables to use: a table set (e.g. from `loadBufrTables`) or a provider picking one from the
   * section-1 table versions. @default the built-in WMO v16 + centre 41 local tables
   */
  tables?: BufrTables | BufrTableProvider;
  /**
   * Upper bound on values produced from compressed data (each compressed element yields one value
   * per subset, so a small message can expand a lot). Exceeding it is a `BufrFormatError`.
   * @default 50_000_000
   */
  maxValues?: number;
  /**
   * Leave byte runs in the message (`bytes: null`) instead of copying each one out; callers that
   * gather runs into their own buffers (the radar reader) use {@link copyByteRun}, saving one
   * allocation and copy of the payload. @default false
   */
  deferByteRuns?: boolean;
  /**
   * CCITT IA5 strings as stored (`'keep'`, trailing spaces and NULs included, as ecCodes returns
   * them) or with trailing spaces and NULs removed (`'trim'`). @default 'keep'
   */
  strings?: 'keep' | 'trim';
}

/** Copies a byte run (decoded with `deferByteRuns`) from the message bytes into `dest`. */
export function copyByteRun(
  message: Uint8Array,
  item: BytesItem,
  dest: Uint8Array,
  offset = 0,
  file = '<bytes>',
): void {
  const r = new BitReader(message, file, item.bitOffset);
  r.section = 4;
  r.readBytesInto(dest, offset, item.length);
}

/** One decoded BUFR message: the sections' header facts and the data items in descriptor order. */
export interface BufrMessage {
  file: string;
  edition: number;
  totalLength: number;
  section1: Section1;
  /** Section 2 content after its 4-byte header, or `null` when absent. */
  section2: Uint8Array | null;
  section3: Section3;
  /** Declared section lengths in bytes (0 for an absent section 2). */
  sectionLengths: Record<'0' | '1' | '2' | '3' | '4' | '5', number>;
  /** Bits of section-4 data the descriptors consumed. */
  dataBitsUsed: number;
  /** Section-4 data bits left after the last descriptor (padding). */
  dataBitsUnused: number;
  /**
   * Compressed messages: one column per element with every subset's value (numbers in a
   * Float64Array, NaN = missing), the way the data are stored; `null` for uncompressed data.
   */
  columns: readonly BufrColumn[] | null;
  /**
   * One list of items per subset, in descriptor order. Items are read-only: in compressed data
   * an element with the same value in every subset is one item object shared by all subsets, and
   * the lists are built from `columns` when first read.
   */
  subsets: DataItem[][];
}

/** Sequences nested deeper than this are a loop in the tables, not data. */
const MAX_DEPTH = 64;

const DELAYED_REPETITION = new Set([31011, 31012]);

/** 2 05 YYY character insert. */
const CHARACTER_INSERT = 5;

interface WalkerOptions {
  compressed: boolean;
  nsub: number;
  maxValues: number;
  deferBytes: boolean;
  trim: boolean;
}

/** Removes trailing spaces and NULs. */
function trimText(s: string): string {
  let end = s.length;
  while (end > 0 && (s.charCodeAt(end - 1) === 32 || s.charCodeAt(end - 1) === 0)) end--;
  return s.slice(0, end);
}

/** True when any sequence reachable from `descs` uses a 2 22-2 37 operator. */
function usesBitmaps(descs: readonly number[], tables: BufrTables, seen = new Set<number>()): boolean {
  for (const code of descs) {
    if (isBitmapDescriptor(code)) return true;
    if (descriptorF(code) === 3 && !seen.has(code)) {
      seen.add(code);
      const members = tables.d.get(code);
      if (members !== undefined && usesBitmaps(members, tables, seen)) return true;
    }
  }
  return false;
}

class Walker {
  private readonly r: BitReader;
  private readonly tables: BufrTables;
  private readonly compressed: boolean;
  private readonly nsub: number;
  /** Uncompressed: the current subset's items (outs[0]). */
  private readonly outs: DataItem[][] = [[]];
  /** Compressed: one column per element for all subsets (see columns.ts). */
  readonly columns: BufrColumn[] = [];
  private state: DecodeState = newDecodeState();
  private bitmap = new BitmapTracker();
  /** Last 0 31 021 value (associated field significance), per subset when compressed. */
  private significance: (number | null)[] = [];
  private steps = 0;
  private readonly maxSteps: number;
  private values = 0;
  private readonly maxValues: number;
  private readonly deferBytes: boolean;
  private readonly trim: boolean;
  /**
   * No 2 22-2 37 operator in the message: byte runs may be one item for many elements and no
   * back-reference bookkeeping is needed. Off when bit-maps need every element counted.
   */
  private bulk = true;
  /** Compressed: the varying columns' numbers until the walk ends (see columns.ts). */
  private numbers: ColumnNumbers | null = null;

  constructor(r: BitReader, tables: BufrTables, o: WalkerOptions) {
    this.r = r;
    this.tables = tables;
    this.compressed = o.compressed;
    this.nsub = o.nsub;
    this.maxValues = o.maxValues;
    this.deferBytes = o.deferBytes;
    this.trim = o.trim;
    // Every real step reads at least one bit; allow generous slack for operators and empty
    // replications, but bound pathological expansions (replicated operators, factor 0 loops).
    this.maxSteps = 8 * r.remaining + 100_000;
  }

  /** Walks the data; uncompressed subsets are returned, compressed ones left in `columns`. */
  run(descriptors: readonly number[]): DataItem[][] {
    if (this.nsub === 0) return [];
    this.bulk = !usesBitmaps(descriptors, this.tables);
    if (this.compressed) {
      this.numbers = new ColumnNumbers();
      this.walk(descriptors, 0);
      this.numbers.finish();
      return [];
    }
    const subsets: DataItem[][] = [];
    for (let s = 0; s < this.nsub; s++) {
      this.outs[0] = [];
      this.state = newDecodeState();
      this.bitmap = new BitmapTracker();
      this.significance = [];
      this.walk(descriptors, 0);
      subsets.push(this.outs[0]);
    }
    return subsets;
  }

  private fail(detail: string, code: number): BufrFormatError {
    return this.r.error(detail, formatDescriptor(code));
  }

  private unsupported(code: number, detail: string): BufrUnsupportedError {
    return new BufrUnsupportedError(formatDescriptor(code), detail, this.r.file);
  }

  private element(code: number): ElementDef {
    const def = this.tables.b.get(code);
    if (def === undefined) throw this.fail('element descriptor not found in table B', code);
    return def;
  }

  private tick(code: number): void {
    if (++this.steps > this.maxSteps) {
      throw this.fail(`descriptor expansion exceeds ${this.maxSteps} steps for the data present`, code);
    }
  }

  /** A bit-map complaint as a format error at the current bit. */
  private bitmapError(e: unknown, code: number): BufrFormatError {
    return e instanceof BufrFormatError ? e : this.fail((e as Error).message, code);
  }

  /** `bitmap.related` (no closure per element: this runs for every element of the message). */
  private related(code: number): BitmapTarget | null {
    try {
      return this.bitmap.related(code);
    } catch (e) {
      throw this.bitmapError(e, code);
    }
  }

  private bitmapElement(index: number, code: number, p: ElementPlan, value: unknown): void {
    try {
      this.bitmap.element(index, code, p, value);
    } catch (e) {
      throw this.bitmapError(e, code);
    }
  }

  private bitmapOperator(code: number): void {
    try {
      this.bitmap.operator(code);
    } catch (e) {
      throw this.bitmapError(e, code);
    }
  }

  /** Walks descs[from..to) (a replication body is a range of its list, not a copy). */
  private walk(descs: readonly number[], depth: number, from = 0, to = descs.length): void {
    if (depth > MAX_DEPTH) throw this.fail(`sequences nested more than ${MAX_DEPTH} deep`, descs[from] ?? 0);
    for (let i = from; i < to; i++) {
      const code = descs[i] as number;
      this.tick(code);
      switch (descriptorF(code)) {
        case 0:
          this.elementDescriptor(code);
          break;
        case 1:
          i = this.replicate(descs, i, to, depth);
          break;
        case 2:
          this.operator(code);
          break;
        case 3: {
          const members = this.tables.d.get(code);
          if (members === undefined) throw this.fail('sequence descriptor not found in table D', code);
          this.walk(members, depth + 1);
          break;
        }
      }
    }
  }

  /** An element descriptor in the walk, under the operators in force. */
  private elementDescriptor(code: number): void {
    const st = this.state;
    if (st.newReferenceBits > 0) {
      this.newReference(code, st.newReferenceBits);
      return;
    }
    if (st.nextLocalWidth > 0) {
      const width = st.nextLocalWidth;
      st.nextLocalWidth = 0;
      const def = this.tables.b.get(code);
      if (def === undefined || def.width !== width) {
        this.readUnknownLocal(code, width);
        return;
      }
    }
    if (st.notPresent > 0) {
      st.notPresent--;
      const x = descriptorX(code);
      if (!(x >= 1 && x <= 9) && x !== 31) {
        // 2 21 YYY: no data bits for this element; it is reported as missing.
        this.pushMissing(code, this.r.pos);
        return;
      }
    }
    this.readElement(this.element(code), code);
  }

  /** Appends a missing value for `code` (data not present, or skipped) to every subset. */
  private pushMissing(code: number, bitOffset: number): void {
    if (this.compressed) this.columns.push({ kind: 'value', descriptor: code, bitOffset, constant: null });
    else (this.outs[0] as DataItem[]).push({ kind: 'value', descriptor: code, value: null, bitOffset });
  }

  /** Index of the last item (uncompressed) or column (compressed): the same as an item index. */
  private lastIndex(): number {
    return (this.compressed ? this.columns.length : (this.outs[0] as DataItem[]).length) - 1;
  }

  /** Reads one element; returns its value (subset 0's value when compressed). */
  private readElement(def: ElementDef, code: number, planOverride?: ElementPlan): number | string | null {
    const p = planOverride ?? elementPlan(def, this.state);
    if (p.width <= 0) throw this.fail(`width ${p.width} after operators`, code);
    if (!p.text && p.width > MAX_NUMERIC_BITS)
      throw this.unsupported(code, `numeric width ${p.width} bits > 53`);
    if (p.text && p.width % 8 !== 0)
      throw this.fail(`text width ${p.width} is not a whole number of bytes`, code);
    const x = descriptorX(code);
    const assocWidth = x === 31 ? 0 : associatedWidth(this.state);
    const associated = assocWidth > 0 ? this.readAssociated(assocWidth, code) : null;
    const target = this.bulk ? null : this.related(code);
    const first = this.compressed ? this.readCompressed(p, code) : this.readOne(p, code);
    const index = this.lastIndex();
    if (this.compressed) {
      const col = this.columns[index] as BufrColumn;
      if (associated !== null) {
        col.associated = {
          values: associated,
          significance: associated.map((_, s) => this.significance[s] ?? null),
        };
      }
      if (target !== null) col.refersTo = target.item;
      if (code === ASSOCIATED_FIELD_SIGNIFICANCE) {
        this.significance = Array.from({ length: this.nsub }, (_, s) => {
          const v = this.subsetValue(col, s);
          return typeof v === 'number' ? v : null;
        });
      }
    } else {
      const item = (this.outs[0] as DataItem[])[index] as ValueItem;
      if (associated !== null)
        item.associated = { value: associated[0] as number, significance: this.significance[0] ?? null };
      if (target !== null) item.refersTo = target.item;
      if (code === ASSOCIATED_FIELD_SIGNIFICANCE)
        this.significance = [typeof first === 'number' ? first : null];
    }
    if (!this.bulk) this.bitmapElement(index, code, p, first);
    return first;
  }

  /** 2 04 YYY: the associated field before an element, one value per subset; never missing. */
  private readAssociated(width: number, code: number): number[] {
    const d = formatDescriptor(code);
    if (width > MAX_NUMERIC_BITS) throw this.unsupported(code, `associated field of ${width} bits`);
    if (!this.compressed) return [this.r.readUint(width, d)];
    const r0 = this.r.readUint(width, d);
    const nbinc = this.r.readUint(6, d);
    if (nbinc > MAX_NUMERIC_BITS) throw this.fail(`increment width ${nbinc} bits`, code);
    const out: number[] = [];
    for (let s = 0; s < this.nsub; s++) out.push(nbinc === 0 ? r0 : r0 + this.r.readUint(nbinc, d));
    return out;
  }

  /** 2 03 YYY: a new reference value for `code` (YYY bits, leftmost bit = sign). */
  private newReference(code: number, bits: number): void {
    const d = formatDescriptor(code);
    const raw = this.r.readUint(bits, d);
    if (this.compressed) {
      // Compressed: the value is the reference field; every subset must agree (no increments).
      const nbinc = this.r.readUint(6, d);
      if (nbinc !== 0) throw this.fail('2 03 new reference values differ between subsets', code);
    }
    const sign = 2 ** (bits - 1);
    this.state.references.set(code, raw >= sign ? -(raw - sign) : raw);
  }

  /**
   * 2 06 YYY with an element the tables lack (or describe with another width): its YYY bits are
   * read as a raw unsigned integer (scale 0, reference 0), as ecCodes reports them, instead of
   * being skipped unseen.
   */
  private readUnknownLocal(code: number, width: number): void {
    if (width > MAX_NUMERIC_BITS) {
      // Too wide to be a number: skip it (regulation: a receiver may skip the local descriptor).
      const d = formatDescriptor(code);
      const bitOffset = this.r.pos;
      this.r.skip(width, d);
      if (this.compressed) this.r.skip(this.r.readUint(6, d) * this.nsub, d);
      this.pushMissing(code, bitOffset);
      return;
    }
    const plan: ElementPlan = { width, scale: 0, reference: 0, text: false, missing: true };
    if (this.compressed) this.readCompressed(plan, code);
    else this.readOne(plan, code);
  }

  private text(s: string | null): string | null {
    return s !== null && this.trim ? trimText(s) : s;
  }

  private readOne(p: ElementPlan, code: number): number | string | null {
    const bitOffset = this.r.pos;
    let value: number | string | null;
    if (p.text) {
      value = this.text(this.r.readText(p.width / 8, formatDescriptor(code)));
    } else {
      const raw = this.r.readUint(p.width, formatDescriptor(code));
      value = p.missing && p.width > 1 && raw === allOnes(p.width) ? null : scaled(raw, p);
    }
    (this.outs[0] as DataItem[]).push({ kind: 'value', descriptor: code, value, bitOffset });
    return value;
  }

  /**
   * Compressed data (FM 94 regulation 94.6.3): a reference value R0 of the element's width, a
   * 6-bit increment width NBINC, then one NBINC-bit increment per subset (all ones = missing).
   * Text: R0 is the full string, NBINC counts characters (bytes).
   */
  private readCompressed(p: ElementPlan, code: number): number | string | null {
    const r = this.r;
    const d = formatDescriptor(code);
    const bitOffset = r.pos;
    const nsub = this.nsub;
    this.values += nsub;
    if (this.values > this.maxValues) {
      throw this.fail(`compressed data expands to more than ${this.maxValues} values (maxValues)`, code);
    }
    // Each column is made whole in one literal (not grown property by property): fewer shapes.
    if (p.text) {
      const r0 = this.text(r.readText(p.width / 8, d));
      const nbinc = r.readUint(6, d);
      if (nbinc === 0) {
        this.columns.push({ kind: 'value', descriptor: code, bitOffset, constant: r0 });
        return r0;
      }
      const texts: (string | null)[] = [];
      for (let s = 0; s < nsub; s++) texts.push(this.text(r.readText(nbinc, d)));
      this.columns.push({ kind: 'value', descriptor: code, bitOffset, texts });
      return texts[0] ?? null;
    }
    const r0 = r.readUint(p.width, d);
    const nbinc = r.readUint(6, d);
    if (nbinc > MAX_NUMERIC_BITS) throw this.fail(`increment width ${nbinc} bits`, code);
    if (nbinc === 0) {
      // The same value in every subset: stored once (and one shared item per subset).
      const r0Missing = p.missing && p.width > 1 && r0 === allOnes(p.width);
      const constant = r0Missing ? null : scaled(r0, p);
      this.columns.push({ kind: 'value', descriptor: code, bitOffset, constant });
      return constant;
    }
    const col: BufrColumn = { kind: 'value', descriptor: code, bitOffset, numbers: PENDING_NUMBERS };
    this.columns.push(col);
    const store = this.numbers as ColumnNumbers;
    const at = store.reserve(col, nsub);
    const numbers = store.buffer;
    r.readUintsInto(nbinc, numbers, at, nsub, d);
    // In place: increment -> (r0 + increment + reference) / 10^scale, as scaled() computes it.
    const incMissing = p.missing ? allOnes(nbinc) : -1;
    const reference = p.reference;
    const scale = p.scale;
    const factor = pow10(scale > 0 ? scale : -scale);
    const end = at + nsub;
    for (let k = at; k < end; k++) {
      const inc = numbers[k] as number;
      if (inc === incMissing) numbers[k] = Number.NaN;
      else {
        const v = r0 + inc + reference;
        numbers[k] = scale === 0 ? v : scale > 0 ? v / factor : v * factor;
      }
    }
    const first = numbers[at] as number;
    return first !== first ? null : first;
  }

  /** Subset `s` of a column during the walk (numbers are still in the scratch store). */
  private subsetValue(col: BufrColumn, s: number): number | string | null {
    if (col.numbers === PENDING_NUMBERS) return (this.numbers as ColumnNumbers).lastValue(s);
    return columnValue(col, s);
  }

  /**
   * Handles the replication at descs[i] (its body must end before `to`); returns the index of its
   * last body descriptor.
   */
  private replicate(descs: readonly number[], i: number, to: number, depth: number): number {
    const code = descs[i] as number;
    const x = descriptorX(code);
    const y = descriptorY(code);
    if (x === 0) throw this.fail('replication of 0 descriptors', code);
    let count = y;
    let bodyStart = i + 1;
    if (y === 0) {
      const factorCode = i + 1 < to ? descs[i + 1] : undefined;
      if (factorCode === undefined || descriptorF(factorCode) !== 0) {
        throw this.fail('delayed replication is not followed by a factor descriptor', code);
      }
      if (DELAYED_REPETITION.has(factorCode))
        throw this.unsupported(factorCode, 'delayed repetition is not supported');
      if (!FACTOR_DESCRIPTORS.has(factorCode)) {
        throw this.fail(
          `delayed replication factor ${formatDescriptor(factorCode)} is not 0 31 000/001/002`,
          code,
        );
      }
      const before = this.r.pos;
      const factor = this.readElement(this.element(factorCode), factorCode);
      if (this.compressed) {
        // Every subset must replicate the same number of times (regulation 94.6.3 note 2).
        const col = this.columns.at(-1) as BufrColumn;
        for (let s = 0; s < this.nsub; s++) {
          if (this.subsetValue(col, s) !== factor)
            throw this.r.error(
              'delayed replication factors differ between subsets',
              formatDescriptor(factorCode),
              before,
            );
        }
      }
      if (typeof factor !== 'number')
        throw this.r.error('missing replication factor', formatDescriptor(factorCode), before);
      count = factor;
      bodyStart = i + 2;
    }
    const bodyEnd = bodyStart + x;
    if (bodyEnd > to)
      throw this.fail(`replication of ${x} descriptors but only ${to - bodyStart} follow`, code);
    if (count > 0 && x === 1 && this.bulkBytes(descs[bodyStart] as number, count)) return bodyEnd - 1;
    for (let k = 0; k < count; k++) this.walk(descs, depth + 1, bodyStart, bodyEnd);
    return bodyEnd - 1;
  }

  /**
   * Bulk path: a replicated single 8-bit element with scale 0 and reference 0, no operators in
   * force and uncompressed data is copied out as one byte run (one shift loop, no per-byte work).
   */
  private bulkBytes(code: number, count: number): boolean {
    if (this.compressed || !this.bulk) return false;
    if (descriptorF(code) !== 0) return false;
    const def = this.tables.b.get(code);
    if (def === undefined || def.isText) return false;
    const st = this.state;
    if (st.newReferenceBits > 0 || st.nextLocalWidth > 0 || st.notPresent > 0) return false;
    if (associatedWidth(st) > 0 && descriptorX(code) !== 31) return false;
    const p = elementPlan(def, st);
    if (p.width !== 8 || p.scale !== 0 || p.reference !== 0) return false;
    const bitOffset = this.r.pos;
    if (count * 8 > this.r.remaining) {
      throw this.fail(
        `replication count ${count} needs ${count * 8} bits but only ${this.r.remaining} remain`,
        code,
      );
    }
    this.tick(code);
    let bytes: Uint8Array | null = null;
    if (this.deferBytes) this.r.skip(count * 8, formatDescriptor(code));
    else bytes = this.r.readBytes(count, formatDescriptor(code));
    (this.outs[0] as DataItem[]).push({ kind: 'bytes', descriptor: code, length: count, bytes, bitOffset });
    return true;
  }

  /** Data description operators (FM 94 BUFR table C). */
  private operator(code: number): void {
    const x = descriptorX(code);
    const y = descriptorY(code);
    if (applyOperator(this.state, code)) return;
    if (x === CHARACTER_INSERT) {
      // 2 05 YYY: YYY characters (CCITT IA5) inserted in the data, reported under 205YYY.
      if (y === 0) throw this.fail('2 05 000 inserts no characters', code);
      const plan: ElementPlan = { width: 8 * y, scale: 0, reference: 0, text: true, missing: true };
      const bitOffset = this.r.pos;
      if (this.compressed) this.readCompressed(plan, code);
      else {
        const value = this.text(this.r.readText(y, formatDescriptor(code)));
        (this.outs[0] as DataItem[]).push({ kind: 'value', descriptor: code, value, bitOffset });
      }
      return;
    }
    if (isBitmapDescriptor(code) && y === 255 && x !== 37) {
      // 2 23 255 / 2 24 255 / 2 25 255 / 2 32 255: a value of the element the bit-map points at.
      const target = this.bulk ? null : this.related(code);
      if (target === null) throw this.fail('marker operator without a data present bit-map in force', code);
      const plan = x === 25 ? differencePlan(target.plan) : target.plan;
      if (this.compressed) {
        this.readCompressed(plan, code);
        (this.columns.at(-1) as BufrColumn).refersTo = target.item;
      } else {
        this.readOne(plan, code);
        ((this.outs[0] as DataItem[]).at(-1) as ValueItem).refersTo = target.item;
      }
      return;
    }
    if ((x >= 22 && x <= 25) || x === 32 || (x >= 35 && x <= 37)) {
      if (!(y === 0 || (x === 37 && y === 255)))
        throw this.fail(`operator 2 ${x} ${String(y).padStart(3, '0')} is not defined`, code);
      this.bitmapOperator(code);
      this.pushOperator(code);
      return;
    }
    if (x >= 41 && x <= 43) {
      // 2 41 / 2 42 / 2 43 000 and 255: event and categorical-forecast markers, no bits (as
      // ecCodes reads 2 41 and 2 42; it refuses 2 43, which table C defines the same way).
      if (!isEventOperator(code))
        throw this.fail(`operator 2 ${x} ${String(y).padStart(3, '0')} is not defined`, code);
      if (!this.bulk) this.bitmapOperator(code);
      this.pushOperator(code);
      return;
    }
    throw this.unsupported(code, `operator 2 ${String(x).padStart(2, '0')} is not supported`);
  }

  /** An operator item (no value) where the operator stood, in every subset. */
  private pushOperator(code: number): void {
    const bitOffset = this.r.pos;
    if (this.compressed) this.columns.push({ kind: 'operator', descriptor: code, bitOffset });
    else (this.outs[0] as DataItem[]).push({ kind: 'operator', descriptor: code, bitOffset });
  }
}

/** Resolves the tables for a message from the options. */
function resolveTables(option: DecodeBufrOptions['tables'], s1: Section1): BufrTables | undefined {
  const key = {
    masterTable: s1.masterTable,
    masterTableVersion: s1.masterTableVersion,
    centre: s1.centre,
    subCentre: s1.subCentre,
    localTableVersion: s1.localTableVersion,
  };
  if (option === undefined) return defaultTableProvider(key);
  if (typeof option === 'function') return option(key);
  return option;
}

/**
 * Decodes one BUFR message (edition 2, 3 or 4) that fills `bytes` exactly. For files with
 * several messages (GTS headers, padding) use `decodeBufrFile`.
 *
 * @throws BufrFormatError (file, section, bit offset, descriptor) for anything malformed.
 * @throws BufrUnsupportedError for a valid feature this decoder does not implement.
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { decodeBufr } from 'radarlib/bufr';
 *
 * const file = 'RMA1_0315_01_DBZH_20251020T152828Z.BUFR';
 * const message = decodeBufr(await readFile(file), { file });
 * console.log(message.edition, message.section1.centre, message.subsets[0]?.length, 'items');
 * ```
 */
export function decodeBufr(bytes: Uint8Array, options: DecodeBufrOptions = {}): BufrMessage {
  const file = options.file ?? '<bytes>';
  const layout = readSections(bytes, file);
  const tables = resolveTables(options.tables, layout.section1);
  const dataStart = (layout.section4Offset + 4) * 8;
  const dataEnd = (layout.section4Offset + layout.section4Length) * 8;
  const r = new BitReader(bytes, file, dataStart, dataEnd);
  r.section = 4;
  if (tables === undefined) {
    throw new BufrFormatError(
      `no tables for master table ${layout.section1.masterTable} v${layout.section1.masterTableVersion}, centre ${layout.section1.centre}`,
      { file, section: 1 },
    );
  }
  const walker = new Walker(r, tables, {
    compressed: layout.section3.compressed,
    nsub: layout.section3.numberOfSubsets,
    maxValues: options.maxValues ?? 50_000_000,
    deferBytes: options.deferByteRuns === true,
    trim: options.strings === 'trim',
  });
  const uncompressed = walker.run(layout.section3.descriptors);
  const compressed = layout.section3.compressed && layout.section3.numberOfSubsets > 0;
  let subsets: DataItem[][] | undefined = compressed ? undefined : uncompressed;
  const nsub = layout.section3.numberOfSubsets;
  return {
    file,
    edition: layout.edition,
    totalLength: layout.totalLength,
    section1: layout.section1,
    section2: layout.section2,
    section3: layout.section3,
    sectionLengths: layout.lengths,
    dataBitsUsed: r.pos - dataStart,
    dataBitsUnused: dataEnd - r.pos,
    columns: compressed ? walker.columns : null,
    // Compressed data: the per-subset items are built from the columns on first use.
    get subsets(): DataItem[][] {
      subsets ??= materialize(walker.columns, nsub);
      return subsets;
    },
  };
}
