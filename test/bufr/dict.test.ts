/** bufrToDict: the Python original's shape, on synthetic volumes (always run). */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bufrToDict, bufrToDictSync, volumeToDict } from '../../src/bufr/dict.js';
import { encodeRadarVolume } from '../../src/bufr/encoder.js';
import { makeSyntheticVolume } from '../../src/bufr/synthetic.js';
import { NO_DATA } from '../../src/radar/model.js';

void test('sweeps are stacked and padded with NaN to the largest ngates; info holds per-sweep lists', async () => {
  const v = makeSyntheticVolume({ nrays: 4, ngates: 6, elevations: [0.5, 1.5] });
  // Second sweep: fewer gates and another range offset (the original rejected this; we do not).
  const s1 = v.sweeps[1];
  assert.ok(s1 !== undefined);
  Object.assign(s1, {
    ngates: 3,
    firstGateOffset: 4770,
    values: Float64Array.from({ length: 12 }, (_, i) => i),
  });
  const bytes = encodeRadarVolume(v);
  const d = bufrToDictSync(bytes, { fileName: v.fileName as string });
  assert.deepEqual(d.data.shape, [8, 6]);
  const row4 = [...d.data.values.subarray(4 * 6, 5 * 6)];
  assert.deepEqual(row4, [0, 1, 2, NaN, NaN, NaN]);
  assert.deepEqual([...d.data.values.subarray(0, 6)], [...(v.sweeps[0]?.values.subarray(0, 6) ?? [])]);
  assert.deepEqual(d.info.sweeps.ngates, [6, 6], 'padded, as the original reports');
  assert.deepEqual(d.info.sweeps.ngates_sweep, [6, 3]);
  assert.deepEqual(d.info.sweeps.gate_offset, [1770, 4770]);
  assert.deepEqual(d.info.sweeps.elevaciones, [0.5, 1.5]);
  assert.deepEqual(d.info.sweeps.seg_sweep_ini, [28, 53]);
  assert.equal(d.info.nombre_radar, 'RMA11');
  assert.deepEqual(d.info.estrategia, { nombre: '0315', volume_number: '01' });
  assert.equal(d.info.tipo_producto, 'DBZH');
  assert.equal(d.info.metadata['filename'], 'RMA11_0315_01_20251020T152828Z.nc');
  assert.equal(d.info.metadata['created'], 'Fecha:20/10/2025 Hora:15:28:52');
  assert.deepEqual((await bufrToDict(bytes, { fileName: v.fileName as string })).info, d.info);
  // -DBL_MAX stays in the data, unmasked, as in the original's stacked array.
  const v2 = makeSyntheticVolume({ nrays: 2, ngates: 2, elevations: [1] });
  (v2.sweeps[0] as { values: Float64Array }).values.fill(NO_DATA);
  assert.equal(volumeToDict(v2).data.values[0], NO_DATA);
});
