/**
 * The encoder's golden cases: synthetic volumes (as the demo, the tests and the benchmarks make
 * them) and the real fixtures read and written again. `synthetic.json` holds the SHA-256 of each
 * case's bytes as written by main at 3cee9d8, before the encoder was rebuilt on the shared section
 * and structure tables; `scripts/bufr-golden.ts` regenerates it from any source tree.
 *
 * The encoder and synthetic-volume functions are passed in, so the same cases run against this
 * tree (the test) and against an older tree (the script).
 */

import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import type { EncodeRadarVolumeOptions } from '../../../src/bufr/encoder.js';
import type { SyntheticVolumeOptions } from '../../../src/bufr/synthetic.js';
import type { RadarVolume } from '../../../src/radar/model.js';

export interface EncoderUnderTest {
  encodeRadarVolume: (volume: RadarVolume, options?: EncodeRadarVolumeOptions) => Uint8Array;
  makeSyntheticVolume: (options?: SyntheticVolumeOptions) => RadarVolume;
}

export interface GoldenCase {
  name: string;
  /** What the case exercises. */
  feature: string;
  volume: (make: EncoderUnderTest['makeSyntheticVolume']) => RadarVolume;
  options?: EncodeRadarVolumeOptions;
}

export const GOLDEN_CASES: readonly GoldenCase[] = [
  {
    name: 'default',
    feature: 'every default: 4 sweeps of 360 x 480, DBZH, zlib level 6',
    volume: (make) => make(),
  },
  {
    name: 'demo-vrad',
    feature: "the demo network's volume (a real site, level 1), VRAD",
    volume: (make) =>
      make({
        radar: 'RMA1',
        field: 'VRAD',
        time: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
        nrays: 360,
        ngates: 480,
        elevations: [0.5, 1.3, 2.3],
        seed: 1001,
        latitude: -31.4413,
        longitude: -64.1919,
        height: 476,
      }),
    options: { level: 1 },
  },
  {
    name: 'multi-chunk',
    feature: 'payloads of several 65534-byte chunks',
    volume: (make) => make({ nrays: 360, ngates: 900, elevations: [0.5, 1.5], seed: 9 }),
  },
  {
    name: 'options',
    feature: 'no file name, small chunks, local table 1, sub-category 0, level 9',
    volume: (make) => make({ strategy: null, field: 'ZDR', nrays: 20, ngates: 30, elevations: [1, 2, 3] }),
    options: { chunkSize: 100, localTableVersion: 1, internationalSubCategory: 0, level: 9 },
  },
  {
    name: 'additional-moments',
    feature: 'a sweep with two extra moments',
    volume: (make) => {
      const v = make({ nrays: 6, ngates: 7, elevations: [1, 2], field: 'KDP', seed: 4 });
      v.sweeps[0]?.additionalMoments.push(
        { momentCode: 80, values: Float64Array.from({ length: 42 }, (_, i) => i / 4) },
        { momentCode: 60, values: new Float64Array(42).fill(-1.5) },
      );
      return v;
    },
  },
];

/**
 * SHA-256 of what this Node's zlib makes of a fixed input at the levels the cases use. The
 * payloads are zlib streams, so the golden hashes hold only for a zlib that deflates alike.
 */
export function zlibFingerprint(): string {
  const input = Uint8Array.from({ length: 50_000 }, (_, i) => (i * i + (i >> 7)) & 0xff);
  const hash = createHash('sha256');
  for (const level of [1, 6, 9]) hash.update(deflateSync(input, { level }));
  return hash.digest('hex');
}

/** The bytes of one case as written by `e`. */
export function encodeCase(c: GoldenCase, e: EncoderUnderTest): Uint8Array {
  return e.encodeRadarVolume(c.volume(e.makeSyntheticVolume), c.options);
}
