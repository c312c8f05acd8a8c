/**
 * Descriptor codes. A descriptor is 16 bits on the wire (F: 2, X: 6, Y: 8); in memory it is the
 * integer FXXYYY (F * 100000 + X * 1000 + Y), so `3 21 204` is 321204 and `0 31 001` is 31001.
 */

/** Kind of descriptor by F (WMO Manual on Codes, BUFR regulation 94.5.2). */
export type DescriptorKind = 'element' | 'replication' | 'operator' | 'sequence';

const KINDS: readonly DescriptorKind[] = ['element', 'replication', 'operator', 'sequence'];

export function descriptorF(code: number): number {
  return Math.floor(code / 100000);
}
export function descriptorX(code: number): number {
  return Math.floor(code / 1000) % 100;
}
export function descriptorY(code: number): number {
  return code % 1000;
}
/** The kind of a descriptor from its F part: element (0), replication (1), operator (2), sequence (3). */
export function descriptorKind(code: number): DescriptorKind {
  return KINDS[descriptorF(code)] ?? 'element';
}

/** The 16-bit wire form -> FXXYYY. */
export function descriptorFromWire(bits16: number): number {
  return (bits16 >> 14) * 100000 + ((bits16 >> 8) & 0x3f) * 1000 + (bits16 & 0xff);
}

/** FXXYYY -> the 16-bit wire form. */
export function descriptorToWire(code: number): number {
  return (descriptorF(code) << 14) | (descriptorX(code) << 8) | descriptorY(code);
}

const formatted = new Map<number, string>();

/** 321204 -> `3 21 204`, the way the WMO tables print descriptors (memoized: used per value read). */
export function formatDescriptor(code: number): string {
  let s = formatted.get(code);
  if (s === undefined) {
    const x = String(descriptorX(code)).padStart(2, '0');
    const y = String(descriptorY(code)).padStart(3, '0');
    s = `${descriptorF(code)} ${x} ${y}`;
    if (formatted.size < 100_000) formatted.set(code, s);
  }
  return s;
}

/** `3 21 204`, `321204` or `3-21-204` -> 321204; `null` when it is not a descriptor. */
export function parseDescriptor(text: string): number | null {
  const m = /^\s*([0-3])[\s-]?(\d{2})[\s-]?(\d{3})\s*$/.exec(text);
  if (m === null) return null;
  const x = Number(m[2]);
  const y = Number(m[3]);
  if (x > 63 || y > 255) return null;
  return Number(m[1]) * 100000 + x * 1000 + y;
}
