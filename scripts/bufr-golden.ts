/**
 * Writes the encoder's golden outputs (test/bufr/golden/) from the encoder of a source tree, so a
 * rewrite of the encoder can be checked byte for byte against the code it replaces:
 *
 *   git archive <rev> src | tar -x -C /tmp/golden-src
 *   node --import tsx scripts/bufr-golden.ts --src /tmp/golden-src/src --rev <rev>
 *
 * Output: `synthetic.json` (SHA-256 and length of every case in test/bufr/golden/cases.ts, and of
 * each real fixture in ../shared/fixtures/bufr read and written again) and `options.BUFR` (the
 * bytes of the smallest case, to compare literally and to inspect with `bufr_dump`).
 */

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import {
  encodeCase,
  GOLDEN_CASES,
  zlibFingerprint,
  type EncoderUnderTest,
} from '../test/bufr/golden/cases.js';
import type { RadarVolume } from '../src/radar/model.js';

const { values } = parseArgs({
  options: {
    src: { type: 'string', default: 'src' },
    rev: { type: 'string', default: 'working tree' },
    out: { type: 'string', default: 'test/bufr/golden' },
  },
});
const src = path.resolve(values.src);
const load = async (module: string): Promise<Record<string, unknown>> =>
  (await import(pathToFileURL(path.join(src, module)).href)) as Record<string, unknown>;

const encoder = await load('bufr/encoder.ts');
const synthetic = await load('bufr/synthetic.ts');
const reader = await load('bufr/radar-volume.ts');
const underTest = {
  encodeRadarVolume: encoder['encodeRadarVolume'],
  makeSyntheticVolume: synthetic['makeSyntheticVolume'],
} as EncoderUnderTest;
const readRadarVolumeSync = reader['readRadarVolumeSync'] as (
  bytes: Uint8Array,
  options: { fileName: string },
) => RadarVolume;

const digest = (bytes: Uint8Array): { sha256: string; bytes: number } => ({
  sha256: createHash('sha256').update(bytes).digest('hex'),
  bytes: bytes.length,
});

const cases: Record<string, { sha256: string; bytes: number }> = {};
for (const c of GOLDEN_CASES) {
  const bytes = encodeCase(c, underTest);
  cases[c.name] = digest(bytes);
  if (c.name === 'options') writeFileSync(path.join(values.out, 'options.BUFR'), bytes);
}

const fixturesDir = path.resolve('..', 'shared', 'fixtures', 'bufr');
const fixtures: Record<string, { sha256: string; bytes: number }> = {};
if (existsSync(fixturesDir)) {
  for (const name of readdirSync(fixturesDir)
    .filter((f) => f.endsWith('.BUFR'))
    .sort()) {
    const volume = readRadarVolumeSync(readFileSync(path.join(fixturesDir, name)), { fileName: name });
    fixtures[name] = digest(underTest.encodeRadarVolume(volume));
  }
}

const made = `node --import tsx scripts/bufr-golden.ts --src <tree of ${values.rev}>/src --rev ${values.rev}`;
writeFileSync(
  path.join(values.out, 'synthetic.json'),
  `${JSON.stringify({ made, rev: values.rev, zlib: zlibFingerprint(), cases, fixtures }, null, 2)}\n`,
);
process.stdout.write(
  `${Object.keys(cases).length} cases, ${Object.keys(fixtures).length} fixtures -> ${values.out}\n`,
);
