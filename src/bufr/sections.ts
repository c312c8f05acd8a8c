/**
 * Sections 0-5 of a BUFR message (WMO Manual on Codes, Vol. I.2, FM 94 BUFR, editions 3 and 4).
 *
 * Each section's fixed fields are a layout table (name, bytes) walked by one reader, as
 * pybufrkit's `definitions/section*.json`. Every declared length is checked against the bytes
 * present and against the total length in section 0; the sections must tile the message exactly.
 */

import { BitReader } from './bit-reader.js';
import { descriptorFromWire } from './descriptors.js';
import {
  BUFR_END,
  BUFR_START,
  DESCRIPTOR_OCTETS,
  fieldBitOffset,
  fixedOctets,
  isEdition,
  readFields,
  SECTION0,
  SECTION1,
  SECTION1_HAS_SECTION2,
  SECTION3,
  SECTION3_COMPRESSED,
  SECTION3_OBSERVED,
  SECTION1_ED2,
  SECTION1_ED3,
  SECTION1_ED4,
  SECTION5,
  SECTION5_OCTETS,
  SECTION_HEAD,
  SECTION_LENGTH,
  type Edition,
  type FieldValues,
} from './section-layouts.js';

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

/** The fewest octets each section can declare: its fixed fields (section 1: the shortest edition). */
const MIN_SECTION_LENGTH = {
  1: Math.min(...Object.values(SECTION1).map(fixedOctets)),
  2: fixedOctets(SECTION_HEAD),
  3: fixedOctets(SECTION3),
  4: fixedOctets(SECTION_HEAD),
} as const;

/** The shortest message: sections 0, 1, 3, 4 and 5 holding their fixed fields only. */
const MIN_TOTAL_LENGTH =
  fixedOctets(SECTION0) +
  MIN_SECTION_LENGTH[1] +
  MIN_SECTION_LENGTH[3] +
  MIN_SECTION_LENGTH[4] +
  SECTION5_OCTETS;

/** Section 1's fields in any edition: those only later editions have are optional. */
type Section1Fields = FieldValues<typeof SECTION1_ED2> & Partial<FieldValues<typeof SECTION1_ED4>>;

/** Reads a section's 3-byte length and checks it fits in the message. */
function sectionLength(r: BitReader, section: 1 | 2 | 3 | 4, offset: number, totalLength: number): number {
  r.section = section;
  r.endBit = totalLength * 8;
  if (offset + fixedOctets(SECTION_HEAD) > totalLength) {
    throw r.error(`section ${section} would start at byte ${offset}, beyond the end of the message`);
  }
  const { length } = readFields(r, SECTION_LENGTH, offset);
  r.pos = offset * 8;
  if (length < MIN_SECTION_LENGTH[section]) {
    throw r.error(
      `declared length ${length} is shorter than the fixed fields (${MIN_SECTION_LENGTH[section]})`,
    );
  }
  if (offset + length > totalLength - SECTION5_OCTETS) {
    throw r.error(
      `declared length ${length} at byte ${offset} runs past the end of the message (${totalLength} bytes, 4 for section 5)`,
    );
  }
  r.endBit = (offset + length) * 8;
  return length;
}

/** Section 0: checks "BUFR", the edition and that the total length is the length of `bytes`. */
function readSection0(r: BitReader): { edition: Edition; totalLength: number } {
  const bytes = r.bytes;
  r.section = 0;
  if (bytes.length < fixedOctets(SECTION0)) throw r.error(`only ${bytes.length} bytes: not a BUFR message`);
  const { start, totalLength, edition } = readFields(r, SECTION0, 0);
  if (start !== BUFR_START) throw r.error('does not start with "BUFR"', undefined, 0);
  if (!isEdition(edition)) {
    throw r.error(
      `edition ${edition} is not supported (2, 3 or 4)`,
      undefined,
      fieldBitOffset(SECTION0, 'edition', 0),
    );
  }
  const totalLengthAt = fieldBitOffset(SECTION0, 'totalLength', 0);
  if (totalLength > bytes.length) {
    throw r.error(
      `total length ${totalLength} exceeds the ${bytes.length} bytes present (truncated?)`,
      undefined,
      totalLengthAt,
    );
  }
  if (totalLength < bytes.length) {
    throw r.error(
      `${bytes.length - totalLength} bytes after the declared end of the message`,
      undefined,
      totalLengthAt,
    );
  }
  if (totalLength < MIN_TOTAL_LENGTH)
    throw r.error(`total length ${totalLength} is too short`, undefined, totalLengthAt);
  return { edition, totalLength };
}

/** Section 1 at byte `offset`, in the layout of `edition`. */
function readSection1(r: BitReader, edition: Edition, offset: number, totalLength: number): Section1 {
  const length = sectionLength(r, 1, offset, totalLength);
  const fixed = fixedOctets(SECTION1[edition]);
  if (length < fixed) throw r.error(`declared length ${length} is shorter than the ${fixed} fixed bytes`);
  const f: Section1Fields =
    edition === 4
      ? readFields(r, SECTION1_ED4, offset)
      : edition === 3
        ? readFields(r, SECTION1_ED3, offset)
        : readFields(r, SECTION1_ED2, offset);
  return {
    length,
    masterTable: f.masterTable,
    centre: f.centre,
    subCentre: f.subCentre ?? 0,
    updateSequence: f.updateSequence,
    hasSection2: (f.flags & SECTION1_HAS_SECTION2) !== 0,
    dataCategory: f.dataCategory,
    internationalSubCategory: f.internationalSubCategory ?? null,
    localSubCategory: f.localSubCategory,
    masterTableVersion: f.masterTableVersion,
    localTableVersion: f.localTableVersion,
    year: edition === 4 ? f.year : yearOfCentury(f.year),
    month: f.month,
    day: f.day,
    hour: f.hour,
    minute: f.minute,
    second: f.second ?? 0,
    local: r.bytes.slice(offset + fixed, offset + length),
  };
}

/** Section 3 at byte `offset`: the fixed fields, then two octets per descriptor. */
function readSection3(r: BitReader, offset: number, totalLength: number): Section3 {
  const length = sectionLength(r, 3, offset, totalLength);
  const { numberOfSubsets, flags } = readFields(r, SECTION3, offset);
  const fixed = fixedOctets(SECTION3);
  const ndesc = Math.floor((length - fixed) / DESCRIPTOR_OCTETS);
  if (ndesc === 0) throw r.error('no descriptors');
  const descriptors: number[] = [];
  r.pos = (offset + fixed) * 8;
  for (let i = 0; i < ndesc; i++) descriptors.push(descriptorFromWire(r.readUint(8 * DESCRIPTOR_OCTETS)));
  return {
    length,
    numberOfSubsets,
    flags,
    observed: (flags & SECTION3_OBSERVED) !== 0,
    compressed: (flags & SECTION3_COMPRESSED) !== 0,
    descriptors,
  };
}

/** Section 5 must start where section 4 ends and be "7777". */
function checkSection5(r: BitReader, offset: number, totalLength: number): void {
  r.section = 5;
  r.endBit = totalLength * 8;
  r.pos = offset * 8;
  if (offset !== totalLength - SECTION5_OCTETS) {
    throw r.error(
      `sections 0-4 end at byte ${offset} but section 5 must start at byte ${totalLength - SECTION5_OCTETS}`,
    );
  }
  if (readFields(r, SECTION5, offset).end !== BUFR_END) {
    throw r.error('section 5 is not "7777"', undefined, offset * 8);
  }
}

/** Parses sections 0-3 and 5 and locates section 4. Throws `BufrFormatError` on any mismatch. */
export function readSections(bytes: Uint8Array, file: string): SectionLayout {
  const r = new BitReader(bytes, file);
  const { edition, totalLength } = readSection0(r);
  let offset = fixedOctets(SECTION0);

  const section1 = readSection1(r, edition, offset, totalLength);
  offset += section1.length;

  let section2: Uint8Array | null = null;
  let len2 = 0;
  if (section1.hasSection2) {
    len2 = sectionLength(r, 2, offset, totalLength);
    section2 = bytes.slice(offset + fixedOctets(SECTION_HEAD), offset + len2);
    offset += len2;
  }

  const section3 = readSection3(r, offset, totalLength);
  offset += section3.length;

  const section4Offset = offset;
  const section4Length = sectionLength(r, 4, offset, totalLength);
  offset += section4Length;

  checkSection5(r, offset, totalLength);
  return {
    edition,
    totalLength,
    section1,
    section2,
    section3,
    section4Offset,
    section4Length,
    lengths: {
      '0': fixedOctets(SECTION0),
      '1': section1.length,
      '2': len2,
      '3': section3.length,
      '4': section4Length,
      '5': SECTION5_OCTETS,
    },
  };
}

/** Editions 2 and 3 store the year of the century (some producers write year - 1900, e.g. 125). */
function yearOfCentury(y: number): number {
  return y < 50 ? 2000 + y : 1900 + y;
}
