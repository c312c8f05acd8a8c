/**
 * Bad input is a BufrFormatError naming file, section and bit offset: truncation, wrong lengths,
 * bit flips, absurd replication counts, zlib streams that inflate to the wrong size, not BUFR.
 * Built on encoder output so it always runs; a few cases repeat on a real file when present.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { decodeBufr } from '../../src/bufr/decoder.js';
import { encodeRadarVolume } from '../../src/bufr/encoder.js';
import { readRadarVolume, readRadarVolumeSync } from '../../src/bufr/radar-volume.js';
import { makeSyntheticVolume } from '../../src/bufr/synthetic.js';
import { AbortedError, BufrFormatError, BufrUnsupportedError } from '../../src/errors.js';
import { fixturesDir, sharedMissing } from './helpers.js';
import { itemOffset, patchBits } from './mutate.js';

const FILE = 'bad.bufr';
const base = encodeRadarVolume(
  makeSyntheticVolume({ nrays: 36, ngates: 50, elevations: [0.5, 1.5], strategy: null }),
);

function expectFormat(bytes: Uint8Array, section: number | null, pattern?: RegExp): BufrFormatError {
  let caught: unknown;
  try {
    readRadarVolumeSync(bytes, { fileName: FILE });
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof BufrFormatError, `expected BufrFormatError, got ${String(caught)}`);
  assert.equal(caught.file, FILE);
  assert.equal(caught.code, 'RADARLIB_BUFR_FORMAT');
  if (section !== null) assert.equal(caught.section, section, caught.message);
  assert.equal(typeof caught.bitOffset, 'number', caught.message);
  if (pattern !== undefined) assert.match(caught.message, pattern);
  return caught;
}

void test('the base message is valid', () => {
  assert.equal(readRadarVolumeSync(base).sweeps.length, 2);
});

void test('not BUFR at all', () => {
  expectFormat(new TextEncoder().encode('<html>not a radar file</html>'), 0, /BUFR/);
  expectFormat(new Uint8Array(0), 0);
  expectFormat(Uint8Array.from([0x42, 0x55, 0x46]), 0);
});

void test('truncated files and trailing bytes', () => {
  for (const n of [8, 30, 60, 100, base.length - 5, base.length - 1]) {
    expectFormat(base.slice(0, n), 0, /exceeds|too short/);
  }
  const longer = new Uint8Array(base.length + 3);
  longer.set(base);
  expectFormat(longer, 0, /after the declared end/);
});

void test('wrong edition and total length', () => {
  const ed = base.slice();
  ed[7] = 1;
  expectFormat(ed, 0, /edition 1/);
  const total = base.slice();
  patchBits(total, 32, 24, base.length - 2);
  expectFormat(total, 0);
});

void test('wrong section lengths', () => {
  const s1 = base.slice();
  patchBits(s1, 64, 24, 5000);
  expectFormat(s1, 1, /declared length 5000/);
  const s1short = base.slice();
  patchBits(s1short, 64, 24, 10);
  expectFormat(s1short, 1, /shorter/);
  // Section 3 starts at byte 30; section 4 at 44.
  const s3 = base.slice();
  patchBits(s3, 30 * 8, 24, 12);
  expectFormat(s3, null);
  const s4short = base.slice();
  patchBits(s4short, 44 * 8, 24, 100);
  expectFormat(s4short, 5, /section 5 must start/);
  const s4long = base.slice();
  patchBits(s4long, 44 * 8, 24, base.length);
  expectFormat(s4long, 4, /runs past the end/);
  const s5 = base.slice();
  s5[s5.length - 1] = 0x36;
  expectFormat(s5, 5, /7777/);
});

void test('absurd replication counts are refused before any allocation', () => {
  const nsweeps = base.slice();
  patchBits(nsweeps, itemOffset(base, 31001, 1), 8, 255);
  expectFormat(nsweeps, 4);
  const chunks = base.slice();
  patchBits(chunks, itemOffset(base, 31002, 0), 16, 65535);
  expectFormat(chunks, 4);
  const chunkLen = base.slice();
  const at = itemOffset(base, 31002, 1);
  patchBits(chunkLen, at, 16, 65535);
  const e = expectFormat(chunkLen, 4, /65535/);
  assert.equal(e.descriptor, '0 30 198');
  assert.ok((e.bitOffset as number) >= at);
});

void test('a zlib stream that inflates to the wrong size, or not at all', () => {
  // Header says more gates than the payload holds.
  const more = base.slice();
  patchBits(more, itemOffset(base, 30194, 0), 12, 51);
  expectFormat(more, 4, /inflates to 14400 bytes, expected 8 x 36 rays x 51 gates/);
  // Header says fewer: zlib stops at maxOutputLength.
  const fewer = base.slice();
  patchBits(fewer, itemOffset(base, 30194, 0), 12, 49);
  const e = expectFormat(fewer, 4, /does not inflate/);
  assert.equal(e.descriptor, '3 21 206');
  // Payload bytes corrupted.
  const corrupt = base.slice();
  const p = itemOffset(base, 30198, 0) / 8;
  for (let k = 10; k < 30; k++) corrupt[Math.floor(p) + k] = 0x55;
  expectFormat(corrupt, 4, /inflate/);
  // More values than a zlib stream of this size could ever hold.
  const huge = base.slice();
  patchBits(huge, itemOffset(base, 30194, 0), 12, 4000);
  patchBits(huge, itemOffset(base, 30195, 0), 11, 2000);
  expectFormat(huge, 4, /more than a/);
});

void test('the async reader reports the same errors', async () => {
  const bad = base.slice(0, 100);
  await assert.rejects(readRadarVolume(bad, { fileName: FILE }), BufrFormatError);
  const fewer = base.slice();
  patchBits(fewer, itemOffset(base, 30194, 0), 12, 49);
  await assert.rejects(
    readRadarVolume(fewer, { fileName: FILE }),
    (e: unknown) => e instanceof BufrFormatError && e.section === 4,
  );
});

void test('a tiny sweep whose stream is longer than its header allows', () => {
  const good = encodeRadarVolume(
    makeSyntheticVolume({ nrays: 4, ngates: 4, elevations: [1], strategy: null }),
  );
  const patched = good.slice();
  patchBits(patched, itemOffset(good, 30195, 0), 11, 3); // 3 rays: the 4x4 stream overflows
  expectFormat(patched, 4, /does not inflate/);
});

void test(
  'errors on a real file name the file, section and bit offset',
  { skip: sharedMissing ?? false },
  () => {
    const file = path.join(fixturesDir, 'RMA11_0315_01_KDP_20251020T152828Z.BUFR');
    const bytes = readFileSync(file);
    const flipped = new Uint8Array(bytes);
    patchBits(flipped, itemOffset(bytes, 31002, 1), 16, 60000);
    expectFormat(flipped, 4);
    expectFormat(bytes.subarray(0, 50000), 0, /exceeds/);
    assert.throws(
      () => decodeBufr(bytes.subarray(0, 50000), { file }),
      (e: unknown) => e instanceof BufrFormatError && e.file === file,
    );
  },
);

void test('an unknown compression method is unsupported, named; an aborted read rejects', async () => {
  const other = base.slice();
  patchBits(other, itemOffset(base, 30197, 0), 8, 1);
  assert.throws(
    () => readRadarVolumeSync(other, { fileName: FILE }),
    (e: unknown) => e instanceof BufrUnsupportedError && e.descriptor === '0 30 197' && e.file === FILE,
  );
  const ac = new AbortController();
  ac.abort(new Error('stop'));
  await assert.rejects(
    readRadarVolume(base, { signal: ac.signal }),
    (e: unknown) => e instanceof AbortedError,
  );
});
