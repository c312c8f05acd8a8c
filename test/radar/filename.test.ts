/**
 * The radar file-name convention: the parser on a case table, and the formatter as its inverse.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  fileDataTime,
  fileRadar,
  formatCompactUtc,
  formatRadarFileName,
  parseCompactUtc,
  parseRadarFileName,
  radarVolumeFileName,
} from '../../src/radar/filename.js';

const T = new Date(Date.UTC(2025, 9, 20, 15, 28, 28));

void test('parseRadarFileName: names, paths and what is not a radar file', () => {
  const cases: { title: string; input: string; expected: ReturnType<typeof parseRadarFileName> }[] = [
    {
      title: 'a base name',
      input: 'RMA11_0315_01_DBZH_20251020T152828Z.BUFR',
      expected: { radar: 'RMA11', strategy: '0315', volume: '01', field: 'DBZH', time: T, extension: 'BUFR' },
    },
    {
      title: 'the last part of a path, another extension',
      input: '/L2/RMA1/2025/10/20/15/2828/RMA1_9005_02_VRAD_20251020T152828Z.bufr',
      expected: { radar: 'RMA1', strategy: '9005', volume: '02', field: 'VRAD', time: T, extension: 'bufr' },
    },
    { title: 'no Z', input: 'RMA11_0315_01_DBZH_20251020T152828.BUFR', expected: null },
    { title: 'month 13', input: 'RMA11_0315_01_DBZH_20251320T152828Z.BUFR', expected: null },
    { title: 'a part missing', input: 'RMA11_0315_DBZH_20251020T152828Z.BUFR', expected: null },
    { title: 'a folder', input: '/L2/RMA11/2025/10/20/15/2828/', expected: null },
  ];
  for (const { title, input, expected } of cases)
    assert.deepEqual(parseRadarFileName(input), expected, title);
});

void test('formatRadarFileName is the inverse of parseRadarFileName', () => {
  for (const name of [
    'RMA11_0315_01_DBZH_20251020T152828Z.BUFR',
    'RMA1_9005_02_VRAD_19991231T235959Z.bufr',
    'PAR_0000_01_ZDR_20000229T000000Z.H5',
  ]) {
    const parts = parseRadarFileName(name);
    assert.ok(parts !== null, name);
    assert.equal(formatRadarFileName(parts), name);
  }
  assert.equal(formatCompactUtc(T), '20251020T152828');
  assert.deepEqual(parseCompactUtc(formatCompactUtc(T)), T);
});

void test('radarVolumeFileName: the conventional name, 0000 and 01 for a volume read without one', () => {
  const volume = { radar: 'RMA11', strategy: '0315', volumeNumber: '01', field: 'DBZH', time: T };
  assert.equal(radarVolumeFileName(volume), 'RMA11_0315_01_DBZH_20251020T152828Z.BUFR');
  assert.equal(
    radarVolumeFileName({ ...volume, strategy: null, volumeNumber: null, field: 'KDP' }),
    'RMA11_0000_01_KDP_20251020T152828Z.BUFR',
  );
  const name = radarVolumeFileName({ ...volume, time: new Date(T.getTime() + 999) });
  assert.equal(name, 'RMA11_0315_01_DBZH_20251020T152828Z.BUFR', 'milliseconds are dropped');
});

void test('fileDataTime and fileRadar: from the name, else the fallback', () => {
  assert.equal(fileDataTime('/x/RMA11_0315_01_DBZH_20251020T152828Z.BUFR', 5), T.getTime());
  assert.equal(fileDataTime('/x/other.bin', 5), 5);
  assert.equal(fileRadar('src', '/x/RMA11_0315_01_DBZH_20251020T152828Z.BUFR'), 'RMA11');
  assert.equal(fileRadar('src', '/x/other.bin'), 'src');
});
