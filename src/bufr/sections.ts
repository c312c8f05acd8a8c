/**
 * Sections 0-5 of a BUFR message (WMO Manual on Codes, Vol. I.2, FM 94 BUFR, editions 3 and 4).
 *
 * Each section's fixed fields are a layout table (name, bytes) walked by one reader, as
 * pybufrkit's `definitions/section*.json`. Every declared length is checked against the bytes
 * present and against the total length in section 0; the sections must tile the message exactly.
 */

import { BitReader } from './bit-reader.js';
import { descriptorFromWire } from './descriptors.js';

type Layout = readonly (readonly [name: string, bytes: number])[];

/** Section 0: indicator section (8 bytes). */
const SECTION0: Layout = [
  ['start', 4],
  ['totalLength', 3],
  ['edition', 1],
];

/** Section 1, edition 4 (BUFR regulation 94.3; 22 bytes + optional local data). */
const SECTION1_ED4: Layout = [
  ['length', 3],
  ['masterTable', 1],
  ['centre', 2],
  ['subCentre', 2],
  ['updateSequence', 1],
  ['flags', 1],
  ['dataCategory', 1],
  ['internationalSubCategory', 1],
  ['localSubCategory', 1],
  ['masterTableVersion', 1],
  ['localTableVersion', 1],
  ['year', 2],
  ['month', 1],
  ['day', 1],
  ['hour', 1],
  ['minute', 1],
  ['second', 1],
];

/** Section 1, edition 3 (17 bytes + optional local data; year of century, no seconds). */
const SECTION1_ED3: Layout = [
  ['length', 3],
  ['masterTable', 1],
  ['subCentre', 1],
  ['centre', 1],
  ['updateSequence', 1],
  ['flags', 1],
  ['dataCategory', 1],
  ['localSubCategory', 1],
  ['masterTableVersion', 1],
  ['localTableVersion', 1],
  ['year', 1],
  ['month', 1],
  ['day', 1],
  ['hour', 1],
  ['minute', 1],
];

/**
 * Section 1, edition 2 (Manual on Codes 1988): as edition 3 but the originating centre fills
 * octets 5-6 and there is no sub-centre.
 */
const SECTION1_ED2: Layout = [['length', 3], ['masterTable', 1], ['centre', 2], ...SECTION1_ED3.slice(4)];

/** Sections 2, 3 and 4 share their first 4 bytes: length and a reserved byte. */
const SECTION_HEAD: Layout = [
  ['length', 3],
  ['reserved', 1],
];

const SECTION3_REST: Layout = [
  ['numberOfSubsets', 2],
  ['flags', 1],
];

function layoutBytes(layout: Layout): number {
  return layout.reduce((n, [, b]) => n + b, 0);
}

function readLayout(r: BitReader, layout: Layout): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, bytes] of layout) out[name] = r.readUint(bytes * 8);
  return out;
}

/** BUFR section 1 (identification): tables, originating centre, data category and the reference time. */
export interface Section1 {
  length: number;
  masterTable: number;
  centre: number;
  subCentre: number;
  updateSequence: number;
  /** True when section 2 (optional section) is present. */
  hasSection2: boolean;
  dataCategory: number;
  /** Edition 4 only; `null` in edition 3. */
  internationalSubCategory: number | null;
  localSubCategory: number;
  masterTableVersion: number;
  localTableVersion: number;
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  /** Edition 4 only; 0 in edition 3. */
  second: number;
  /** Local bytes after the fixed fields (usually empty). */
  local: Uint8Array;
}

/** BUFR section 3 (data description): subsets, the observed/compressed flags and the descriptors. */
export interface Section3 {
  length: number;
  numberOfSubsets: number;
  flags: number;
  observed: boolean;
  compressed: boolean;
  /** Unexpanded descriptors, FXXYYY integers. */
  descriptors: number[];
}

/** Where each section sits, as byte offsets into the message. */
export interface SectionLayout {
  edition: number;
  totalLength: number;
  section1: Section1;
  section2: Uint8Array | null;
  section3: Section3;
  /** Byte offset and declared length of section 4; the data bits start 4 bytes in. */
  section4Offset: number;
  section4Length: number;
  /** Declared length of each section in bytes (0 when absent), keyed "0".."5". */
  lengths: Record<'0' | '1' | '2' | '3' | '4' | '5', number>;
}

const MIN_SECTION_LENGTH = { 1: 17, 2: 4, 3: 7, 4: 4 } as const;

/** Reads a section's 3-byte length and checks it fits in the message. */
function sectionLength(r: BitReader, section: 1 | 2 | 3 | 4, offset: number, totalLength: number): number {
  r.section = section;
  r.endBit = totalLength * 8;
  if (offset + 4 > totalLength) {
    throw r.error(`section ${section} would start at byte ${offset}, beyond the end of the message`);
  }
  r.pos = offset * 8;
  const length = r.readUint(24);
  r.pos = offset * 8;
  if (length < MIN_SECTION_LENGTH[section]) {
    throw r.error(
      `declared length ${length} is shorter than the fixed fields (${MIN_SECTION_LENGTH[section]})`,
    );
  }
  if (offset + length > totalLength - 4) {
    throw r.error(
      `declared length ${length} at byte ${offset} runs past the end of the message (${totalLength} bytes, 4 for section 5)`,
    );
  }
  r.endBit = (offset + length) * 8;
  return length;
}

/** Parses sections 0-3 and 5 and locates section 4. Throws `BufrFormatError` on any mismatch. */
export function readSections(bytes: Uint8Array, file: string): SectionLayout {
  const r = new BitReader(bytes, file);
  r.section = 0;
  if (bytes.length < 8) throw r.error(`only ${bytes.length} bytes: not a BUFR message`);
  const s0 = readLayout(r, SECTION0);
  if (s0['start'] !== 0x42554652) throw r.error('does not start with "BUFR"', undefined, 0);
  const edition = s0['edition'] as number;
  const totalLength = s0['totalLength'] as number;
  if (edition < 2 || edition > 4)
    throw r.error(`edition ${edition} is not supported (2, 3 or 4)`, undefined, 56);
  if (totalLength > bytes.length) {
    throw r.error(
      `total length ${totalLength} exceeds the ${bytes.length} bytes present (truncated?)`,
      undefined,
      32,
    );
  }
  if (totalLength < bytes.length) {
    throw r.error(`${bytes.length - totalLength} bytes after the declared end of the message`, undefined, 32);
  }
  if (totalLength < 8 + 17 + 7 + 4 + 4)
    throw r.error(`total length ${totalLength} is too short`, undefined, 32);

  // Section 1
  let offset = 8;
  const len1 = sectionLength(r, 1, offset, totalLength);
  const layout1 = edition === 4 ? SECTION1_ED4 : edition === 3 ? SECTION1_ED3 : SECTION1_ED2;
  const fixed1 = layoutBytes(layout1);
  if (len1 < fixed1) throw r.error(`declared length ${len1} is shorter than the ${fixed1} fixed bytes`);
  const f1 = readLayout(r, layout1);
  const section1: Section1 = {
    length: len1,
    masterTable: f1['masterTable'] as number,
    centre: f1['centre'] as number,
    subCentre: (f1['subCentre'] ?? 0) as number,
    updateSequence: f1['updateSequence'] as number,
    hasSection2: ((f1['flags'] as number) & 0x80) !== 0,
    dataCategory: f1['dataCategory'] as number,
    internationalSubCategory: edition === 4 ? (f1['internationalSubCategory'] as number) : null,
    localSubCategory: f1['localSubCategory'] as number,
    masterTableVersion: f1['masterTableVersion'] as number,
    localTableVersion: f1['localTableVersion'] as number,
    year: edition === 4 ? (f1['year'] as number) : yearOfCentury(f1['year'] as number),
    month: f1['month'] as number,
    day: f1['day'] as number,
    hour: f1['hour'] as number,
    minute: f1['minute'] as number,
    second: edition === 4 ? (f1['second'] as number) : 0,
    local: bytes.slice(offset + fixed1, offset + len1),
  };
  offset += len1;

  // Section 2 (optional)
  let section2: Uint8Array | null = null;
  let len2 = 0;
  if (section1.hasSection2) {
    len2 = sectionLength(r, 2, offset, totalLength);
    section2 = bytes.slice(offset + 4, offset + len2);
    offset += len2;
  }

  // Section 3
  const len3 = sectionLength(r, 3, offset, totalLength);
  readLayout(r, SECTION_HEAD);
  const f3 = readLayout(r, SECTION3_REST);
  const ndesc = Math.floor((len3 - 7) / 2);
  if (ndesc === 0) throw r.error('no descriptors');
  const descriptors: number[] = [];
  for (let i = 0; i < ndesc; i++) descriptors.push(descriptorFromWire(r.readUint(16)));
  const flags3 = f3['flags'] as number;
  const section3: Section3 = {
    length: len3,
    numberOfSubsets: f3['numberOfSubsets'] as number,
    flags: flags3,
    observed: (flags3 & 0x80) !== 0,
    compressed: (flags3 & 0x40) !== 0,
    descriptors,
  };
  offset += len3;

  // Section 4
  const len4 = sectionLength(r, 4, offset, totalLength);
  const section4Offset = offset;
  offset += len4;

  // Section 5
  r.section = 5;
  r.endBit = totalLength * 8;
  r.pos = offset * 8;
  if (offset !== totalLength - 4) {
    throw r.error(`sections 0-4 end at byte ${offset} but section 5 must start at byte ${totalLength - 4}`);
  }
  if (r.readUint(32) !== 0x37373737) throw r.error('section 5 is not "7777"', undefined, offset * 8);

  return {
    edition,
    totalLength,
    section1,
    section2,
    section3,
    section4Offset,
    section4Length: len4,
    lengths: { '0': 8, '1': len1, '2': len2, '3': len3, '4': len4, '5': 4 },
  };
}

/** Editions 2 and 3 store the year of the century (some producers write year - 1900, e.g. 125). */
function yearOfCentury(y: number): number {
  return y < 50 ? 2000 + y : 1900 + y;
}
