/**
 * Shared helpers for the BUFR tests: where the shared fixtures live, the fixture list, and a
 * builder for small hand-made messages (any descriptors, editions 3 and 4, compressed or not).
 */

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BitWriter } from '../../src/bufr/bit-writer.js';
import { descriptorToWire } from '../../src/bufr/descriptors.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sharedDir = path.resolve(repoRoot, '..', 'shared');
export const fixturesDir = path.join(sharedDir, 'fixtures', 'bufr');
export const tablesDir = path.join(sharedDir, 'bufr-tables');
export const referencePath = path.join(fixturesDir, 'reference.json');
/** Why fixture tests skip, or `null` when the shared fixtures are present. */
export const sharedMissing: string | null = existsSync(referencePath)
  ? null
  : `shared fixtures not found at ${referencePath} (clone the shared data next to the repo as ../shared)`;

/**
 * The six real RMA volumes, each with what it exercises.
 */
export const FIXTURES: readonly { name: string; feature: string }[] = [
  {
    name: 'RMA11_0315_01_DBZH_20251020T152828Z.BUFR',
    feature: '15 sweeps, ngates shrinking 653->107, 5-chunk payloads, +DBL_MAX rays and placeholder sweeps',
  },
  { name: 'RMA11_0315_01_DBZV_20251020T152828Z.BUFR', feature: 'moment code 233, 10 trailing pad bits' },
  {
    name: 'RMA11_0315_01_KDP_20251020T152828Z.BUFR',
    feature: 'range offsets differ between sweeps (4770/1770), all -DBL_MAX sweeps, 1-chunk payloads',
  },
  { name: 'RMA11_0315_01_ZDR_20251020T152828Z.BUFR', feature: 'moment code 80' },
  {
    name: 'RMA11_0315_02_VRAD_20251020T152429Z.BUFR',
    feature: '5 sweeps of 360x320, NaN values (float32 NaN widened)',
  },
  { name: 'RMA11_0315_02_WRAD_20251020T152429Z.BUFR', feature: 'moment code 60, fill rays' },
];

export interface MessageSpec {
  edition?: 3 | 4;
  centre?: number;
  localTableVersion?: number;
  masterTableVersion?: number;
  subsets?: number;
  compressed?: boolean;
  descriptors: readonly number[];
  /** Writes the section-4 data bits. */
  data: (w: BitWriter) => void;
}

/** Builds a complete BUFR message from a descriptor list and a data writer. */
export function buildMessage(spec: MessageSpec): Uint8Array {
  const edition = spec.edition ?? 4;
  const dw = new BitWriter();
  spec.data(dw);
  let dataBytes = Math.ceil(dw.pos / 8);
  if ((4 + dataBytes) % 2 === 1) dataBytes++;
  const s4 = 4 + dataBytes;
  const s1 = edition === 4 ? 22 : 18;
  let s3 = 7 + 2 * spec.descriptors.length;
  if (s3 % 2 === 1) s3++;
  const total = 8 + s1 + s3 + s4 + 4;
  const h = new BitWriter();
  h.writeText(4, 'BUFR');
  h.writeUint(24, total);
  h.writeUint(8, edition);
  h.writeUint(24, s1);
  h.writeUint(8, 0);
  if (edition === 4) {
    h.writeUint(16, spec.centre ?? 41);
    h.writeUint(16, 0);
  } else {
    h.writeUint(8, 0);
    h.writeUint(8, spec.centre ?? 41);
  }
  h.writeUint(8, 0); // update sequence
  h.writeUint(8, 0); // flags
  h.writeUint(8, 6); // data category
  if (edition === 4) h.writeUint(8, 0);
  h.writeUint(8, 0);
  h.writeUint(8, spec.masterTableVersion ?? 16);
  h.writeUint(8, spec.localTableVersion ?? 2);
  if (edition === 4) {
    h.writeUint(16, 2025);
    for (const v of [10, 20, 15, 28, 28]) h.writeUint(8, v);
  } else {
    for (const v of [25, 10, 20, 15, 28]) h.writeUint(8, v);
    h.writeUint(8, 0); // pad to an even length
  }
  h.writeUint(24, s3);
  h.writeUint(8, 0);
  h.writeUint(16, spec.subsets ?? 1);
  h.writeUint(8, 0x80 | (spec.compressed === true ? 0x40 : 0));
  for (const d of spec.descriptors) h.writeUint(16, descriptorToWire(d));
  if ((7 + 2 * spec.descriptors.length) % 2 === 1) h.writeUint(8, 0);
  h.writeUint(24, s4);
  h.writeUint(8, 0);
  const head = h.finish();
  const out = new Uint8Array(total);
  out.set(head);
  out.set(dw.finish(dataBytes), head.length);
  out.set([0x37, 0x37, 0x37, 0x37], total - 4);
  return out;
}

/** Exactly rounded sum of finite doubles (like Python's math.fsum), via BigInt fixed point. */
export function exactSum(values: readonly number[] | Float64Array): number {
  const view = new DataView(new ArrayBuffer(8));
  let minExp = Infinity;
  const parts: [bigint, number][] = [];
  for (const v of values) {
    if (v === 0) continue;
    view.setFloat64(0, v);
    const hi = view.getUint32(0);
    const lo = view.getUint32(4);
    const biased = (hi >>> 20) & 0x7ff;
    let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
    let exp: number;
    if (biased === 0) exp = -1074;
    else {
      mant |= 1n << 52n;
      exp = biased - 1075;
    }
    if (hi >>> 31 === 1) mant = -mant;
    parts.push([mant, exp]);
    if (exp < minExp) minExp = exp;
  }
  if (parts.length === 0) return 0;
  let sum = 0n;
  for (const [m, e] of parts) sum += m << BigInt(e - minExp);
  // Number(bigint) rounds to nearest; scaling by a power of two is then exact.
  return Number(sum) * 2 ** minExp;
}
