/**
 * The fixed fields of BUFR sections 0-5 as data (WMO Manual on Codes, Vol. I.2, FM 94 BUFR,
 * editions 2, 3 and 4, as pybufrkit's `definitions/section*.json`): each field's name, first
 * octet (numbered from 1 within its section, as the Manual numbers them) and width in octets.
 *
 * `readSections` (sections.ts) reads messages through these tables and `writeMessage`
 * (section-writer.ts) writes them, so the decoder and the encoder cannot disagree on where a
 * field is. test/bufr/section-layouts.test.ts checks that each table tiles its octets.
 */

import type { BitReader } from './bit-reader.js';

/** One fixed field of a section. */
export interface Field<N extends string> {
  readonly name: N;
  /** First octet, counted from 1 at the start of the section. */
  readonly octet: number;
  readonly octets: number;
}

/** A section's fixed fields in octet order. */
export type Layout<N extends string> = readonly Field<N>[];

/** The value of every field of a layout. */
export type FieldValues<L extends Layout<string>> = Record<L[number]['name'], number>;

function field<N extends string>(name: N, octet: number, octets = 1): Field<N> {
  return { name, octet, octets };
}

/** Section 0, indicator section: "BUFR", total length, edition. */
export const SECTION0 = [field('start', 1, 4), field('totalLength', 5, 3), field('edition', 8)];

/** "BUFR" in octets 1-4 of section 0. */
export const BUFR_START = 0x42554652;

/** Section 1, edition 4 (BUFR regulation 94.3): 22 octets, then optional local data. */
export const SECTION1_ED4 = [
  field('length', 1, 3),
  field('masterTable', 4),
  field('centre', 5, 2),
  field('subCentre', 7, 2),
  field('updateSequence', 9),
  field('flags', 10),
  field('dataCategory', 11),
  field('internationalSubCategory', 12),
  field('localSubCategory', 13),
  field('masterTableVersion', 14),
  field('localTableVersion', 15),
  field('year', 16, 2),
  field('month', 18),
  field('day', 19),
  field('hour', 20),
  field('minute', 21),
  field('second', 22),
];

/** Octets 7-17 of section 1 in editions 2 and 3 (octets 4-6 differ between them). */
const SECTION1_ED2_ED3_TAIL = [
  field('updateSequence', 7),
  field('flags', 8),
  field('dataCategory', 9),
  field('localSubCategory', 10),
  field('masterTableVersion', 11),
  field('localTableVersion', 12),
  field('year', 13),
  field('month', 14),
  field('day', 15),
  field('hour', 16),
  field('minute', 17),
];

/** Section 1, edition 3: 17 octets (year of the century, no seconds), then optional local data. */
export const SECTION1_ED3 = [
  field('length', 1, 3),
  field('masterTable', 4),
  field('subCentre', 5),
  field('centre', 6),
  ...SECTION1_ED2_ED3_TAIL,
];

/**
 * Section 1, edition 2 (Manual on Codes 1988): as edition 3, but the originating centre fills
 * octets 5-6 and there is no sub-centre.
 */
export const SECTION1_ED2 = [
  field('length', 1, 3),
  field('masterTable', 4),
  field('centre', 5, 2),
  ...SECTION1_ED2_ED3_TAIL,
];

export type Edition = 2 | 3 | 4;

/** True for the editions these layouts describe (every message `readSections` accepted). */
export function isEdition(n: number): n is Edition {
  return n === 2 || n === 3 || n === 4;
}

/** Section 1's layout by edition. */
export const SECTION1 = { 2: SECTION1_ED2, 3: SECTION1_ED3, 4: SECTION1_ED4 } as const;

/** Section 1 flags (octet 10 in edition 4): bit 1 set when section 2 is present. */
export const SECTION1_HAS_SECTION2 = 0x80;

/** Every section but 0 and 5 starts with its length in octets. */
export const SECTION_LENGTH = [field('length', 1, 3)];

/** Sections 2, 3 and 4 start alike: their length and a reserved octet. */
export const SECTION_HEAD = [...SECTION_LENGTH, field('reserved', 4)];

/** Section 3: the head, the number of subsets and the flags; descriptors from octet 8. */
export const SECTION3 = [...SECTION_HEAD, field('numberOfSubsets', 5, 2), field('flags', 7)];
/** Section 3 flags: bit 1 observed data, bit 2 compressed data. */
export const SECTION3_OBSERVED = 0x80;
export const SECTION3_COMPRESSED = 0x40;
/** Each descriptor takes two octets (F: 2 bits, X: 6, Y: 8). */
export const DESCRIPTOR_OCTETS = 2;

/** Section 5, end section: "7777". */
export const SECTION5 = [field('end', 1, 4)];
/** "7777", the whole of section 5. */
export const BUFR_END = 0x37373737;
export const SECTION5_OCTETS = fixedOctets(SECTION5);

/** Octets before the first field of a layout ends, i.e. its fixed length. */
export function fixedOctets(layout: Layout<string>): number {
  return layout.reduce((end, f) => Math.max(end, f.octet - 1 + f.octets), 0);
}

/** Bit offset into the message of `name`, for a section that starts at byte `sectionStart`. */
export function fieldBitOffset<N extends string>(layout: Layout<N>, name: N, sectionStart: number): number {
  const f = layout.find((x) => x.name === name);
  return (sectionStart + (f === undefined ? 0 : f.octet - 1)) * 8;
}

/** Reads every field of `layout` for a section starting at byte `sectionStart`. */
export function readFields<N extends string>(
  r: BitReader,
  layout: Layout<N>,
  sectionStart: number,
): Record<N, number> {
  // Every name of the layout is set by the loop, so the record is complete when returned.
  const values = {} as Record<N, number>;
  for (const f of layout) {
    r.pos = (sectionStart + f.octet - 1) * 8;
    values[f.name] = r.readUint(8 * f.octets);
  }
  return values;
}

/**
 * Writes every field of `layout` big-endian into `out` for a section starting at byte
 * `sectionStart`. A value that does not fit its octets is a programming error (RangeError).
 */
export function writeFields<N extends string>(
  out: Uint8Array,
  layout: Layout<N>,
  sectionStart: number,
  values: Record<N, number>,
): void {
  for (const f of layout) {
    const value = values[f.name];
    if (!Number.isInteger(value) || value < 0 || value >= 2 ** (8 * f.octets)) {
      throw new RangeError(`${f.name} = ${value} does not fit in ${f.octets} octets`);
    }
    writeOctets(out, sectionStart + f.octet - 1, f.octets, value);
  }
}

/** Writes `value` big-endian in `octets` octets of `out` from byte `at`. */
export function writeOctets(out: Uint8Array, at: number, octets: number, value: number): void {
  for (let k = 0; k < octets; k++) out[at + k] = Math.floor(value / 2 ** (8 * (octets - 1 - k))) & 0xff;
}
