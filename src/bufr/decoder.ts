/**
 * The generic BUFR decoder: sections, then the descriptor walk over section 4.
 *
 * The walk expands sequences (F = 3) from table D, replicates (F = 1: fixed, delayed with
 * 0 31 001 / 0 31 002 / 0 31 000), applies the operators 2 01, 2 02, 2 07 and 2 08 (F = 2) and
 * reads elements (F = 0) from table B, for uncompressed and compressed subsets. Anything else is
 * a `BufrUnsupportedError` naming the descriptor, never a wrong value.
 */

import { BufrFormatError, BufrUnsupportedError } from '../errors.js';
import { allOnes, BitReader, MAX_NUMERIC_BITS } from './bit-reader.js';
import { descriptorF, descriptorX, descriptorY, formatDescriptor } from './descriptors.js';
import {
  applyOperator,
  elementPlan,
  FACTOR_DESCRIPTORS,
  newDecodeState,
  scaled,
  type DecodeState,
  type ElementPlan,
} from './operators.js';
import { readSections, type Section1, type Section3 } from './sections.js';
import { defaultTableProvider } from './tables/index.js';
import type { BufrTableProvider, BufrTables, ElementDef } from './tables/types.js';

/** One decoded element. */
export interface ValueItem {
  kind: 'value';
  /** FXXYYY, e.g. 2135 for `0 02 135`. */
  descriptor: number;
  /** Number (scaled), string (CCITT IA5, as stored: trailing NULs/spaces kept), or `null` = missing. */
  value: number | string | null;
  /** Bit offset of the field from the start of the message. */
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

/** One item of a message's data section: a numeric value, or the bytes of a compressed payload. */
export type DataItem = ValueItem | BytesItem;

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
  /** One list of items per subset, in descriptor order. */
  subsets: DataItem[][];
}

/** Sequences nested deeper than this are a loop in the tables, not data. */
const MAX_DEPTH = 64;

const DELAYED_REPETITION = new Set([31011, 31012]);

class Walker {
  private readonly r: BitReader;
  private readonly tables: BufrTables;
  private readonly compressed: boolean;
  private readonly nsub: number;
  private readonly outs: DataItem[][];
  private state: DecodeState = newDecodeState();
  private steps = 0;
  private readonly maxSteps: number;
  private values = 0;
  private readonly maxValues: number;

  private readonly deferBytes: boolean;

  constructor(
    r: BitReader,
    tables: BufrTables,
    compressed: boolean,
    nsub: number,
    maxValues: number,
    deferBytes: boolean,
  ) {
    this.r = r;
    this.deferBytes = deferBytes;
    this.maxValues = maxValues;
    this.tables = tables;
    this.compressed = compressed;
    this.nsub = nsub;
    this.outs = Array.from({ length: compressed ? nsub : 1 }, () => []);
    // Every real step reads at least one bit; allow generous slack for operators and empty
    // replications, but bound pathological expansions (replicated operators, factor 0 loops).
    this.maxSteps = 8 * r.remaining + 100_000;
  }

  run(descriptors: readonly number[]): DataItem[][] {
    if (this.nsub === 0) return [];
    if (this.compressed) {
      this.walk(descriptors, 0);
      return this.outs;
    }
    const subsets: DataItem[][] = [];
    for (let s = 0; s < this.nsub; s++) {
      this.outs[0] = [];
      this.state = newDecodeState();
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

  private plan(def: ElementDef): ElementPlan {
    return elementPlan(def, this.state);
  }

  private tick(code: number): void {
    if (++this.steps > this.maxSteps) {
      throw this.fail(`descriptor expansion exceeds ${this.maxSteps} steps for the data present`, code);
    }
  }

  private walk(descs: readonly number[], depth: number): void {
    if (depth > MAX_DEPTH) throw this.fail(`sequences nested more than ${MAX_DEPTH} deep`, descs[0] ?? 0);
    for (let i = 0; i < descs.length; i++) {
      const code = descs[i] as number;
      this.tick(code);
      switch (descriptorF(code)) {
        case 0:
          this.readElement(this.element(code), code);
          break;
        case 1:
          i = this.replicate(descs, i, depth);
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

  /** Reads one element; returns its value (subset 0's value when compressed). */
  private readElement(def: ElementDef, code: number): number | string | null {
    const p = this.plan(def);
    if (p.width <= 0) throw this.fail(`width ${p.width} after operators`, code);
    if (!p.text && p.width > MAX_NUMERIC_BITS)
      throw this.unsupported(code, `numeric width ${p.width} bits > 53`);
    if (p.text && p.width % 8 !== 0)
      throw this.fail(`text width ${p.width} is not a whole number of bytes`, code);
    return this.compressed ? this.readCompressed(p, code) : this.readOne(p, code);
  }

  private readOne(p: ElementPlan, code: number): number | string | null {
    const bitOffset = this.r.pos;
    let value: number | string | null;
    if (p.text) {
      value = this.r.readText(p.width / 8, formatDescriptor(code));
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
    const outs = this.outs;
    this.values += this.nsub;
    if (this.values > this.maxValues) {
      throw this.fail(`compressed data expands to more than ${this.maxValues} values (maxValues)`, code);
    }
    if (p.text) {
      const r0 = r.readText(p.width / 8, d);
      const nbinc = r.readUint(6, d);
      for (let s = 0; s < this.nsub; s++) {
        const value = nbinc === 0 ? r0 : r.readText(nbinc, d);
        (outs[s] as DataItem[]).push({ kind: 'value', descriptor: code, value, bitOffset });
      }
      return (outs[0]?.at(-1) as ValueItem).value;
    }
    const r0 = r.readUint(p.width, d);
    const nbinc = r.readUint(6, d);
    const r0Missing = p.missing && p.width > 1 && r0 === allOnes(p.width);
    if (nbinc > MAX_NUMERIC_BITS) throw this.fail(`increment width ${nbinc} bits`, code);
    if (nbinc === 0) {
      const value = r0Missing ? null : scaled(r0, p);
      for (let s = 0; s < this.nsub; s++)
        (outs[s] as DataItem[]).push({ kind: 'value', descriptor: code, value, bitOffset });
      return value;
    }
    const incMissing = allOnes(nbinc);
    let first: number | null = null;
    for (let s = 0; s < this.nsub; s++) {
      const inc = r.readUint(nbinc, d);
      const value = p.missing && inc === incMissing ? null : scaled(r0 + inc, p);
      if (s === 0) first = value;
      (outs[s] as DataItem[]).push({ kind: 'value', descriptor: code, value, bitOffset });
    }
    return first;
  }

  /** Handles the replication at descs[i]; returns the index of its last body descriptor. */
  private replicate(descs: readonly number[], i: number, depth: number): number {
    const code = descs[i] as number;
    const x = descriptorX(code);
    const y = descriptorY(code);
    if (x === 0) throw this.fail('replication of 0 descriptors', code);
    let count = y;
    let bodyStart = i + 1;
    if (y === 0) {
      const factorCode = descs[i + 1];
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
        for (const out of this.outs) {
          const item = out.at(-1) as ValueItem;
          if (item.value !== factor)
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
    const body = descs.slice(bodyStart, bodyStart + x);
    if (body.length !== x)
      throw this.fail(`replication of ${x} descriptors but only ${body.length} follow`, code);
    if (count > 0 && this.bulkBytes(body, count)) return bodyStart + x - 1;
    for (let k = 0; k < count; k++) this.walk(body, depth + 1);
    return bodyStart + x - 1;
  }

  /**
   * Bulk path: a replicated single 8-bit element with scale 0 and reference 0, no operators in
   * force and uncompressed data is copied out as one byte run (one shift loop, no per-byte work).
   */
  private bulkBytes(body: readonly number[], count: number): boolean {
    if (this.compressed || body.length !== 1) return false;
    const code = body[0] as number;
    if (descriptorF(code) !== 0) return false;
    const def = this.tables.b.get(code);
    if (def === undefined || def.isText) return false;
    const p = this.plan(def);
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

  /** Data description operators (FM 94 BUFR table C), see operators.ts. */
  private operator(code: number): void {
    if (!applyOperator(this.state, code)) {
      throw this.unsupported(
        code,
        `operator 2 ${String(descriptorX(code)).padStart(2, '0')} is not supported`,
      );
    }
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
 * Decodes one BUFR message (edition 3 or 4) that fills `bytes` exactly.
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
  const walker = new Walker(
    r,
    tables,
    layout.section3.compressed,
    layout.section3.numberOfSubsets,
    options.maxValues ?? 50_000_000,
    options.deferByteRuns === true,
  );
  const subsets = walker.run(layout.section3.descriptors);
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
    subsets,
  };
}
