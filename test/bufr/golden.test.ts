/**
 * The encoder writes the same bytes as before it shared the decoder's section and structure
 * tables: every case of golden/cases.ts (and every real fixture, read and written again) hashes to
 * what main at 3cee9d8 wrote (golden/synthetic.json, made by scripts/bufr-golden.ts, see its
 * header), and the smallest case equals golden/options.BUFR byte for byte. Each case also reads
 * back to the volume it was made from.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { encodeRadarVolume } from '../../src/bufr/encoder.js';
import { readRadarVolumeSync } from '../../src/bufr/radar-volume.js';
import { makeSyntheticVolume } from '../../src/bufr/synthetic.js';
import { sha256Hex } from '../helpers/hash.js';
import { encodeCase, GOLDEN_CASES, zlibFingerprint } from './golden/cases.js';
import { FIXTURES, fixturesDir, repoRoot, sharedMissing } from './helpers.js';

interface Golden {
  zlib: string;
  cases: Record<string, { sha256: string; bytes: number }>;
  fixtures: Record<string, { sha256: string; bytes: number }>;
}

const goldenDir = path.join(repoRoot, 'test', 'bufr', 'golden');
const golden = JSON.parse(readFileSync(path.join(goldenDir, 'synthetic.json'), 'utf8')) as Golden;
const current = { encodeRadarVolume, makeSyntheticVolume };
// The payloads are zlib streams: another zlib may deflate differently, and then the hashes say
// nothing about the encoder.
const zlibDiffers =
  zlibFingerprint() === golden.zlib
    ? false
    : "this Node's zlib deflates differently from the one the golden hashes were made with";

void test('every golden case is byte-identical to the encoder it replaces', { skip: zlibDiffers }, () => {
  assert.deepEqual(
    Object.keys(golden.cases),
    GOLDEN_CASES.map((c) => c.name),
    'one hash per case',
  );
  for (const c of GOLDEN_CASES) {
    const bytes = encodeCase(c, current);
    assert.deepEqual({ sha256: sha256Hex(bytes), bytes: bytes.length }, golden.cases[c.name], c.name);
  }
});

void test('the smallest case equals golden/options.BUFR byte for byte', { skip: zlibDiffers }, () => {
  const c = GOLDEN_CASES.find((g) => g.name === 'options');
  assert.ok(c !== undefined);
  assert.deepEqual(Buffer.from(encodeCase(c, current)), readFileSync(path.join(goldenDir, 'options.BUFR')));
});

void test('every golden case reads back to the volume it was made from', () => {
  for (const c of GOLDEN_CASES) {
    const volume = c.volume(makeSyntheticVolume);
    const back = readRadarVolumeSync(encodeRadarVolume(volume, c.options), {
      ...(volume.fileName === null ? {} : { fileName: volume.fileName }),
    });
    assert.deepStrictEqual(back, volume, c.name);
  }
});

void test(
  'real fixtures written again are byte-identical to before',
  { skip: sharedMissing ?? zlibDiffers },
  () => {
    for (const { name } of FIXTURES) {
      const volume = readRadarVolumeSync(readFileSync(path.join(fixturesDir, name)), { fileName: name });
      const bytes = encodeRadarVolume(volume);
      assert.deepEqual({ sha256: sha256Hex(bytes), bytes: bytes.length }, golden.fixtures[name], name);
    }
  },
);
