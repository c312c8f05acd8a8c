/**
 * Fuzzes the BUFR reader with mutated inputs: every case must decode or throw BufrFormatError /
 * BufrUnsupportedError naming the file. Anything else (another exception, a crash) is a bug.
 *
 *   node --import tsx scripts/fuzz-bufr.ts [cases=20000] [seed=1] [file.BUFR ...]
 *
 * Without files it mutates encoder output plus the shared fixtures when ../shared exists.
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeRadarVolume } from '../src/bufr/encoder.js';
import { readRadarVolumeSync } from '../src/bufr/radar-volume.js';
import { makeSyntheticVolume } from '../src/bufr/synthetic.js';
import { BufrFormatError, BufrUnsupportedError } from '../src/errors.js';
import { mutate, prng } from '../test/bufr/mutate.js';

export type FuzzOutcome = 'ok' | 'format' | 'unsupported';

/** Runs one case; throws (with the case label) on anything but success or a typed BUFR error. */
export function fuzzOne(bytes: Uint8Array, label: string): FuzzOutcome {
  try {
    readRadarVolumeSync(bytes, { fileName: label });
    return 'ok';
  } catch (e) {
    if (e instanceof BufrFormatError && e.file === label && e.section !== undefined) return 'format';
    if (e instanceof BufrUnsupportedError && e.file === label) return 'unsupported';
    throw new Error(`fuzz case ${label}: unexpected ${String(e)}`, { cause: e });
  }
}

function main(): void {
  const cases = Number(process.argv[2] ?? 20000);
  const seed = Number(process.argv[3] ?? 1);
  const files = process.argv.slice(4);
  const bases: { name: string; bytes: Uint8Array }[] = files.map((f) => ({
    name: f,
    bytes: readFileSync(f),
  }));
  if (bases.length === 0) {
    bases.push({
      name: 'synthetic',
      bytes: encodeRadarVolume(
        makeSyntheticVolume({ nrays: 36, ngates: 60, elevations: [0.5, 1.5, 2.5], strategy: null }),
      ),
    });
    const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
    const dir = path.resolve(repoRoot, '..', 'shared', 'fixtures', 'bufr');
    if (existsSync(dir)) {
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.BUFR'))) {
        bases.push({ name: f, bytes: readFileSync(path.join(dir, f)) });
      }
    }
  }
  const rand = prng(seed);
  const counts = { ok: 0, format: 0, unsupported: 0 };
  const t0 = performance.now();
  for (let i = 0; i < cases; i++) {
    const base = bases[i % bases.length] as { name: string; bytes: Uint8Array };
    counts[fuzzOne(mutate(base.bytes, rand), `${base.name}#${i}`)]++;
    if ((i + 1) % 1000 === 0) console.log(`${i + 1}/${cases}`, counts);
  }
  console.log(`done: ${cases} cases in ${((performance.now() - t0) / 1000).toFixed(1)} s`, counts);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
