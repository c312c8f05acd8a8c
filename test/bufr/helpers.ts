/**
 * Shared helpers for the BUFR tests: where the shared fixtures live, the fixture list, and a
 * builder for small hand-made messages (any descriptors, editions 3 and 4, compressed or not).
 */

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BitWriter } from '../../src/bufr/bit-writer.js';
import { writeMessage } from '../../src/bufr/section-writer.js';

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

/** Builds a complete BUFR message from a descriptor list and a data writer (through writeMessage). */
export function buildMessage(spec: MessageSpec): Uint8Array {
  const dw = new BitWriter();
  spec.data(dw);
  const section1 = {
    masterTable: 0,
    centre: spec.centre ?? 41,
    subCentre: 0,
    updateSequence: 0,
    dataCategory: 6,
    localSubCategory: 0,
    masterTableVersion: spec.masterTableVersion ?? 16,
    localTableVersion: spec.localTableVersion ?? 2,
    month: 10,
    day: 20,
    hour: 15,
    minute: 28,
  };
  const body = {
    what: 'test message',
    section3: {
      numberOfSubsets: spec.subsets ?? 1,
      observed: true,
      compressed: spec.compressed === true,
      descriptors: spec.descriptors,
    },
    data: dw.finish(),
  };
  return spec.edition === 3
    ? writeMessage({ ...body, edition: 3, section1: { ...section1, year: 25 } })
    : writeMessage({
        ...body,
        section1: { ...section1, internationalSubCategory: 0, year: 2025, second: 28 },
      });
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
