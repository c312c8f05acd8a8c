/**
 * Writes a whole BUFR message (edition 4, or 3 for tests of older files) around section 4's data,
 * through the same layout tables `readSections` reads (section-layouts.ts). Every section is padded
 * to an even number of octets, as edition 3 requires and the RMA files keep doing in edition 4.
 */

import { InvalidArgumentError } from '../errors.js';
import { descriptorToWire } from './descriptors.js';
import {
  BUFR_END,
  BUFR_START,
  DESCRIPTOR_OCTETS,
  fixedOctets,
  SECTION0,
  SECTION1,
  SECTION1_ED3,
  SECTION1_ED4,
  SECTION3,
  SECTION3_OBSERVED,
  SECTION3_COMPRESSED,
  SECTION5,
  SECTION5_OCTETS,
  SECTION_HEAD,
  SECTION_LENGTH,
  writeFields,
  writeOctets,
  type FieldValues,
  type Layout,
} from './section-layouts.js';

/** Section 1's fields but its length and flags (no section 2 is written). */
type Section1Values<L extends Layout<string>> = Omit<FieldValues<L>, 'length' | 'flags'>;

/** What goes into a message; lengths, flags and padding are the writer's. */
export type MessageParts = MessageBody &
  (
    | { edition?: 4; section1: Section1Values<typeof SECTION1_ED4> }
    | { edition: 3; section1: Section1Values<typeof SECTION1_ED3> }
  );

interface MessageBody {
  /** Named in the error when the message would be too long for its length fields. */
  what: string;
  section3: {
    numberOfSubsets: number;
    observed: boolean;
    compressed: boolean;
    /** Unexpanded descriptors, FXXYYY. */
    descriptors: readonly number[];
  };
  /** Section 4's data octets. */
  data: Uint8Array;
}

/** Largest length a 3-octet length field holds. */
const MAX_LENGTH = 2 ** (8 * fixedOctets(SECTION_LENGTH)) - 1;

function even(octets: number): number {
  return octets + (octets % 2);
}

/** The bytes of the message: sections 0, 1, 3, 4 and 5. */
export function writeMessage(parts: MessageParts): Uint8Array {
  const { section3, data } = parts;
  const edition = parts.edition ?? 4;
  const len1 = even(fixedOctets(SECTION1[edition]));
  const fixed3 = fixedOctets(SECTION3);
  const len3 = even(fixed3 + DESCRIPTOR_OCTETS * section3.descriptors.length);
  const fixed4 = fixedOctets(SECTION_HEAD);
  const len4 = even(fixed4 + data.length);
  if (len4 > MAX_LENGTH) {
    throw new InvalidArgumentError(parts.what, `section 4 would be ${len4} bytes (max ${MAX_LENGTH})`);
  }
  const total = fixedOctets(SECTION0) + len1 + len3 + len4 + SECTION5_OCTETS;
  if (total > MAX_LENGTH) {
    throw new InvalidArgumentError(parts.what, `message would be ${total} bytes (max ${MAX_LENGTH})`);
  }

  const out = new Uint8Array(total);
  let at = 0;
  writeFields(out, SECTION0, at, { start: BUFR_START, totalLength: total, edition });
  at += fixedOctets(SECTION0);
  if (parts.edition === 3) writeFields(out, SECTION1_ED3, at, { ...parts.section1, length: len1, flags: 0 });
  else writeFields(out, SECTION1_ED4, at, { ...parts.section1, length: len1, flags: 0 });
  at += len1;
  const flags3 =
    (section3.observed ? SECTION3_OBSERVED : 0) | (section3.compressed ? SECTION3_COMPRESSED : 0);
  writeFields(out, SECTION3, at, {
    length: len3,
    reserved: 0,
    numberOfSubsets: section3.numberOfSubsets,
    flags: flags3,
  });
  section3.descriptors.forEach((d, i) => {
    writeOctets(out, at + fixed3 + DESCRIPTOR_OCTETS * i, DESCRIPTOR_OCTETS, descriptorToWire(d));
  });
  at += len3;
  writeFields(out, SECTION_HEAD, at, { length: len4, reserved: 0 });
  out.set(data, at + fixed4);
  at += len4;
  writeFields(out, SECTION5, at, { end: BUFR_END });
  return out;
}
