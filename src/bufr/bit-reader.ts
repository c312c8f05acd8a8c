/**
 * The one bit cursor every BUFR read goes through (MSB first, big-endian, as BUFR is written).
 *
 * Reads past `endBit` throw `BufrFormatError` with the file, the current section and the bit
 * offset, so a truncated or lying message can never read outside its bounds.
 */

import { BufrFormatError } from '../errors.js';

/** All-ones value for widths 0..53, the BUFR "missing" marker (precomputed, as in pybufrkit). */
const ALL_ONES: readonly number[] = Array.from({ length: 54 }, (_, n) => 2 ** n - 1);

/** Widest numeric field we read as an exact integer (2^53 - 1 is the largest safe integer). */
export const MAX_NUMERIC_BITS = 53;

export function allOnes(nbits: number): number {
  return ALL_ONES[nbits] ?? Number.NaN;
}

/**
 * Reads big-endian bit fields from a BUFR message, as BUFR packs them: MSB first, with the
 * all-ones value meaning "missing" (`NaN`). Errors name the file, section and bit offset.
 *
 * @example
 * ```ts
 * const r = new BitReader(bytes, 'RMA1.BUFR');
 * const edition = r.readUint(8);
 * ```
 */
export class BitReader {
  readonly bytes: Uint8Array;
  readonly file: string;
  /** Section number reported in errors; set by the section parser. */
  section: number | undefined;
  /** Absolute bit position from the start of `bytes`. */
  pos: number;
  /** Reads may not go past this bit (absolute); defaults to the end of `bytes`. */
  endBit: number;

  constructor(bytes: Uint8Array, file: string, startBit = 0, endBit = bytes.length * 8) {
    this.bytes = bytes;
    this.file = file;
    this.pos = startBit;
    this.endBit = Math.min(endBit, bytes.length * 8);
    this.section = undefined;
  }

  /** Bits left before `endBit`. */
  get remaining(): number {
    return this.endBit - this.pos;
  }

  /** A format error at the current position (or at `bitOffset`). */
  error(detail: string, descriptor?: string, bitOffset = this.pos): BufrFormatError {
    return new BufrFormatError(detail, { file: this.file, section: this.section, bitOffset, descriptor });
  }

  private need(nbits: number, descriptor?: string): void {
    if (nbits > this.endBit - this.pos) {
      const where = this.section === undefined ? 'the data' : `section ${this.section}`;
      throw this.error(
        `read of ${nbits} bits runs past the end of ${where} (${this.remaining} bits left)`,
        descriptor,
      );
    }
  }

  /** Reads an unsigned integer of `nbits` (0..53) bits. */
  readUint(nbits: number, descriptor?: string): number {
    if (nbits === 0) return 0;
    if (nbits > MAX_NUMERIC_BITS || nbits < 0)
      throw this.error(`cannot read a ${nbits}-bit integer`, descriptor);
    this.need(nbits, descriptor);
    const bytes = this.bytes;
    let pos = this.pos;
    let left = nbits;
    let value = 0;
    // Fast path: the field fits in the current byte.
    const first = 8 - (pos & 7);
    if (left <= first) {
      this.pos = pos + nbits;
      return ((bytes[pos >>> 3] as number) >>> (first - left)) & ALL_ONES[left]!;
    }
    while (left > 0) {
      const avail = 8 - (pos & 7);
      const take = left < avail ? left : avail;
      const b = ((bytes[pos >>> 3] as number) >>> (avail - take)) & ALL_ONES[take]!;
      value = value * (1 << take) + b;
      pos += take;
      left -= take;
    }
    this.pos = pos;
    return value;
  }

  /**
   * Reads `count` consecutive unsigned integers of `nbits` (0..53) bits each into `out` from
   * `offset` on: the per-subset increments of a compressed element in one loop (a 32-bit window
   * per field while four bytes remain) instead of one call per subset.
   */
  readUintsInto(nbits: number, out: Float64Array, offset: number, count: number, descriptor?: string): void {
    const end = offset + count;
    if (count <= 0) return;
    if (nbits === 0) {
      out.fill(0, offset, end);
      return;
    }
    if (nbits > MAX_NUMERIC_BITS || nbits < 0)
      throw this.error(`cannot read a ${nbits}-bit integer`, descriptor);
    this.need(nbits * count, descriptor);
    let i = offset;
    if (nbits <= 25) {
      // A field starting at bit (pos & 7) <= 7 of a 32-bit big-endian window ends inside it.
      const bytes = this.bytes;
      const lastWindow = bytes.length - 4;
      const down = 32 - nbits;
      let pos = this.pos;
      for (; i < end; i++) {
        const at = pos >>> 3;
        if (at > lastWindow) break;
        const w =
          ((bytes[at] as number) << 24) |
          ((bytes[at + 1] as number) << 16) |
          ((bytes[at + 2] as number) << 8) |
          (bytes[at + 3] as number);
        out[i] = (w << (pos & 7)) >>> down;
        pos += nbits;
      }
      this.pos = pos;
    }
    for (; i < end; i++) out[i] = this.readUint(nbits, descriptor);
  }

  /** Reads `nbits` bits; `null` when all of them are ones (the BUFR missing value). */
  readUintOrMissing(nbits: number, descriptor?: string): number | null {
    const v = this.readUint(nbits, descriptor);
    return nbits > 1 && v === ALL_ONES[nbits] ? null : v;
  }

  /**
   * Copies `n` whole bytes starting at the current (possibly unaligned) position. Unaligned runs
   * are shifted in one loop over the source, never one call per byte.
   */
  readBytes(n: number, descriptor?: string): Uint8Array {
    this.need(n * 8, descriptor);
    const out = new Uint8Array(n);
    this.copyBytesTo(out, 0, n);
    return out;
  }

  /** Like {@link readBytes} but into `dest` at `offset` (no allocation). */
  readBytesInto(dest: Uint8Array, offset: number, n: number, descriptor?: string): void {
    this.need(n * 8, descriptor);
    this.copyBytesTo(dest, offset, n);
  }

  private copyBytesTo(dest: Uint8Array, offset: number, n: number): void {
    const src = this.bytes;
    const start = this.pos >>> 3;
    const shift = this.pos & 7;
    if (shift === 0) {
      dest.set(src.subarray(start, start + n), offset);
    } else {
      // need() guarantees pos + 8n <= 8 * src.length, so byte start + n exists when shift > 0.
      // Shift 32-bit big-endian words at a time; the tail byte by byte.
      const back = 8 - shift;
      const sv = new DataView(src.buffer, src.byteOffset, src.byteLength);
      const dv = new DataView(dest.buffer, dest.byteOffset, dest.byteLength);
      let i = 0;
      for (; i + 4 <= n; i += 4) {
        const w = sv.getUint32(start + i);
        const next = src[start + i + 4] as number;
        dv.setUint32(offset + i, ((w << shift) | (next >>> back)) >>> 0);
      }
      for (; i < n; i++) {
        dest[offset + i] = ((src[start + i] as number) << shift) | ((src[start + i + 1] as number) >>> back);
      }
    }
    this.pos += n * 8;
  }

  /** Reads `nchars` 8-bit characters (CCITT IA5) as a latin1 string; `null` if all bits are ones. */
  readText(nchars: number, descriptor?: string): string | null {
    const b = this.readBytes(nchars, descriptor);
    let allFF = nchars > 0;
    let s = '';
    for (let i = 0; i < b.length; i++) {
      const c = b[i] as number;
      if (c !== 0xff) allFF = false;
      s += String.fromCharCode(c);
    }
    return allFF ? null : s;
  }

  /** Advances `nbits` bits. */
  skip(nbits: number, descriptor?: string): void {
    this.need(nbits, descriptor);
    this.pos += nbits;
  }
}
