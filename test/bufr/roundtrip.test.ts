/**
 * Encoder round trip and synthetic volumes (always run): readRadarVolume(encodeRadarVolume(v))
 * reproduces v exactly, the written structure matches the RMA files, and the no-data options.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { decodeBufr } from '../../src/bufr/decoder.js';
import { formatDescriptor } from '../../src/bufr/descriptors.js';
import { encodeRadarVolume } from '../../src/bufr/encoder.js';
import { readRadarVolume, readRadarVolumeSync, readRawVolume } from '../../src/bufr/radar-volume.js';
import { makeSyntheticVolume } from '../../src/bufr/synthetic.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { radarVolumeFileName } from '../../src/radar/filename.js';
import { FILL, NO_DATA, ValueClass } from '../../src/radar/model.js';
import { fixturesDir, sharedMissing } from './helpers.js';

void test('synthetic volume round trip is exact (sync and async, with and without a file name)', async () => {
  const v = makeSyntheticVolume({ nrays: 360, ngates: 300, elevations: [0.53, 0.92, 1.32], seed: 3 });
  assert.equal(v.fileName, 'RMA11_0315_01_DBZH_20251020T152828Z.BUFR');
  const bytes = encodeRadarVolume(v);
  assert.deepStrictEqual(readRadarVolumeSync(bytes, { fileName: v.fileName as string }), v);
  assert.deepStrictEqual(await readRadarVolume(bytes, { fileName: v.fileName as string }), v);
  const anonymous = makeSyntheticVolume({ strategy: null, field: 'VRAD', nrays: 20, ngates: 30 });
  assert.equal(anonymous.fileName, null);
  assert.deepStrictEqual(readRadarVolumeSync(encodeRadarVolume(anonymous)), anonymous);
});

void test('the written structure is that of the RMA files', () => {
  const v = makeSyntheticVolume({ nrays: 360, ngates: 900, elevations: [0.5, 1.5], seed: 9 });
  const bytes = encodeRadarVolume(v);
  const m = decodeBufr(bytes);
  assert.equal(m.edition, 4);
  assert.equal(m.section1.centre, 41);
  assert.equal(m.section1.dataCategory, 6);
  assert.equal(m.section1.localTableVersion, 2);
  assert.deepEqual(m.section3.descriptors.map(formatDescriptor), ['3 21 204', '3 01 031', '3 21 203']);
  assert.equal(m.section3.flags, 0x80);
  assert.equal(m.sectionLengths['3'], 14);
  assert.equal(m.sectionLengths['4'] % 2, 0);
  assert.ok(m.dataBitsUnused < 16);
  const { raw } = readRawVolume(bytes, 'x');
  for (const s of raw.sweeps) {
    const p = s.parameters[0];
    assert.ok(p !== undefined);
    assert.equal(p.payload[0], 0x78);
    assert.equal(p.payload[1], 0x9c);
    assert.ok(p.chunkLengths.slice(0, -1).every((n) => n === 65534));
    assert.ok((p.chunkLengths.at(-1) as number) <= 65534);
  }
  assert.ok(
    raw.sweeps.some((s) => (s.parameters[0]?.chunkLengths.length ?? 0) > 1),
    'multi-chunk payloads',
  );
});

void test('values are bit-exact, including NaN payloads and no-data patterns', () => {
  const v = makeSyntheticVolume({ nrays: 10, ngates: 10, elevations: [1], strategy: null });
  const s = v.sweeps[0];
  assert.ok(s !== undefined);
  const weirdNaN = new Float64Array(new BigUint64Array([0x7fffffffe0000000n]).buffer)[0] as number;
  s.values[0] = weirdNaN;
  s.values[1] = NO_DATA;
  s.values[2] = FILL;
  s.values[3] = -0;
  const back = readRadarVolumeSync(encodeRadarVolume(v));
  const bits = (f: Float64Array): bigint[] => [...new BigUint64Array(f.buffer, f.byteOffset, f.length)];
  assert.deepEqual(bits(back.sweeps[0]?.values as Float64Array), bits(s.values));
  assert.equal(
    (back.sweeps[0]?.values as Float64Array).buffer.byteLength <= 800 + 64,
    true,
    'no shared pool memory',
  );
});

void test('no-data options: mask and NaN conversion', () => {
  const v = makeSyntheticVolume({ nrays: 10, ngates: 10, elevations: [1, 2], strategy: null });
  const s = v.sweeps[1];
  assert.ok(s !== undefined);
  s.values[0] = NO_DATA;
  s.values[1] = FILL;
  s.values[2] = Number.NaN;
  s.values[3] = 12.5;
  const bytes = encodeRadarVolume(v);
  const masked = readRadarVolumeSync(bytes, { mask: true });
  assert.deepEqual(
    [...(masked.sweeps[1]?.mask as Uint8Array).subarray(0, 4)],
    [ValueClass.noData, ValueClass.fill, ValueClass.nan, ValueClass.valid],
  );
  assert.equal(masked.sweeps[1]?.values[0], NO_DATA, 'mask alone keeps the values');
  const nan = readRadarVolumeSync(bytes, { noData: 'nan', mask: true });
  assert.deepEqual([...(nan.sweeps[1]?.values as Float64Array).subarray(0, 4)], [NaN, NaN, NaN, 12.5]);
  assert.equal(nan.sweeps[1]?.mask?.[1], ValueClass.fill, 'the mask still tells why');
  const plain = readRadarVolumeSync(bytes);
  assert.equal('mask' in (plain.sweeps[0] as object), false);
});

void test('the encoder refuses values it cannot store exactly, naming the field', () => {
  const cases: [(v: ReturnType<typeof makeSyntheticVolume>) => void, RegExp][] = [
    [(v) => ((v.sweeps[0] as { elevation: number }).elevation = 0.535), /sweeps\[0\]\.elevation/],
    [(v) => ((v.sweeps[0] as { firstGateOffset: number }).firstGateOffset = 1775), /firstGateOffset/],
    [(v) => ((v.sweeps[0] as { ngates: number }).ngates = 5000), /values|ngates/],
    [(v) => (v.latitude = -27.123456), /latitude/],
    [(v) => (v.stationId = 'x'.repeat(17)), /stationId/],
    [(v) => (v.time = new Date(Date.UTC(2025, 0, 1, 0, 0, 0, 500))), /time/],
    [(v) => ((v.sweeps[0] as { values: Float64Array }).values = new Float64Array(3)), /values/],
  ];
  for (const [change, name] of cases) {
    const v = makeSyntheticVolume({ nrays: 4, ngates: 5, elevations: [1, 2] });
    change(v);
    assert.throws(
      () => encodeRadarVolume(v),
      (e: unknown) => e instanceof InvalidArgumentError && name.test(e.message),
      String(name),
    );
  }
});

void test('additional moments in a sweep round-trip', () => {
  const v = makeSyntheticVolume({ nrays: 6, ngates: 7, elevations: [1], strategy: null });
  const s = v.sweeps[0];
  assert.ok(s !== undefined);
  s.additionalMoments.push({ momentCode: 80, values: Float64Array.from({ length: 42 }, (_, i) => i / 4) });
  assert.deepStrictEqual(readRadarVolumeSync(encodeRadarVolume(v)), v);
});

void test('synthetic volumes are deterministic and plausible', () => {
  const a = makeSyntheticVolume({ seed: 5, nrays: 90, ngates: 100 });
  const b = makeSyntheticVolume({ seed: 5, nrays: 90, ngates: 100 });
  assert.deepStrictEqual(a, b);
  const s = a.sweeps[0] as { values: Float64Array };
  const valid = [...s.values].filter((x) => x !== NO_DATA && x !== FILL);
  assert.ok(valid.length > 100 && valid.length < s.values.length, 'an echo ring with no-data around it');
  assert.ok(valid.every((x) => Math.fround(x) === x && x >= -15 && x <= 55));
  assert.equal(radarVolumeFileName(a), 'RMA11_0315_01_DBZH_20251020T152828Z.BUFR');
});

void test('real volumes re-encode to the same volume', { skip: sharedMissing ?? false }, () => {
  for (const name of [
    'RMA11_0315_01_KDP_20251020T152828Z.BUFR',
    'RMA11_0315_02_VRAD_20251020T152429Z.BUFR',
  ]) {
    const file = path.join(fixturesDir, name);
    const v = readRadarVolumeSync(readFileSync(file), { fileName: name });
    assert.deepStrictEqual(readRadarVolumeSync(encodeRadarVolume(v), { fileName: name }), v);
  }
});
