/** Byte/bit mutation helpers shared by the error and fuzz tests. */

import { decodeBufr } from '../../src/bufr/decoder.js';
import { seededRandom } from '../../src/util/prng.js';

/** Writes `value` into `width` bits at `bitOffset` (MSB first), in place. */
export function patchBits(bytes: Uint8Array, bitOffset: number, width: number, value: number): void {
  for (let k = 0; k < width; k++) {
    const bit = Math.floor(value / 2 ** (width - 1 - k)) % 2;
    const pos = bitOffset + k;
    const mask = 0x80 >> (pos & 7);
    const idx = pos >>> 3;
    bytes[idx] = bit === 1 ? (bytes[idx] as number) | mask : (bytes[idx] as number) & ~mask;
  }
}

/** Bit offset of the n-th (0-based) item with `descriptor` in subset 0. */
export function itemOffset(bytes: Uint8Array, descriptor: number, nth = 0): number {
  const items = decodeBufr(bytes).subsets[0] ?? [];
  const found = items.filter((i) => i.descriptor === descriptor)[nth];
  if (found === undefined) throw new Error(`no item ${descriptor} #${nth}`);
  return found.bitOffset;
}

/** One random mutation: bit flips (mostly in the first `hot` bytes), byte writes, truncation, insertion, deletion. */
export function mutate(base: Uint8Array, rand: () => number, hot = 600): Uint8Array {
  const pick = (n: number): number => Math.floor(rand() * n);
  const where = (): number => (rand() < 0.7 ? pick(Math.min(hot, base.length)) : pick(base.length));
  const kind = pick(6);
  let b = base.slice();
  switch (kind) {
    case 0:
    case 1: {
      const flips = 1 + pick(8);
      for (let i = 0; i < flips; i++) {
        const pos = where();
        b[pos] = (b[pos] as number) ^ (1 << pick(8));
      }
      break;
    }
    case 2:
      b[where()] = pick(256);
      break;
    case 3:
      b = b.slice(0, pick(b.length));
      break;
    case 4: {
      const pos = where();
      const extra = Uint8Array.from({ length: 1 + pick(16) }, () => pick(256));
      const out = new Uint8Array(b.length + extra.length);
      out.set(b.subarray(0, pos));
      out.set(extra, pos);
      out.set(b.subarray(pos), pos + extra.length);
      b = out;
      break;
    }
    default: {
      const pos = where();
      const n = 1 + pick(16);
      const out = new Uint8Array(Math.max(0, b.length - n));
      out.set(b.subarray(0, pos));
      out.set(b.subarray(Math.min(b.length, pos + n)).subarray(0, out.length - pos), pos);
      b = out;
    }
  }
  return b;
}

/** Deterministic PRNG (re-exported for the fuzz tests). */
export const prng = seededRandom;
