import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeRadarVolume, makeSyntheticVolume, readRadarVolumeSync } from '../../src/bufr/index.js';
import { InvalidArgumentError } from '../../src/errors.js';
import {
  lowestSweep,
  PPI_COLORS,
  ppiLayout,
  REFLECTIVITY_SCALE,
  renderPpiPng,
  renderPpiRgba,
  scaleForField,
  stepIndex,
  sweepRangeKm,
  VELOCITY_SCALE,
  ZDR_SCALE,
} from '../../src/render/index.js';
import { annulusDataFraction, decodePng, isScaleColor, syntheticRingKm } from './helpers.js';

test('the decoded PNG of a synthetic volume shows the echo ring where the echo is, and nothing elsewhere', () => {
  const volume = makeSyntheticVolume({ radar: 'RMA1', field: 'DBZH', elevations: [0.5, 1.3, 2.3] });
  const png = renderPpiPng(volume, { size: 400 });
  const img = decodePng(png);
  const sweep = lowestSweep(volume);
  const layout = ppiLayout(400, sweepRangeKm(sweep));
  assert.equal(img.width, layout.width);
  assert.equal(img.height, 400);
  const zones = syntheticRingKm(sweep);
  const ring = annulusDataFraction(img, layout, REFLECTIVITY_SCALE, ...zones.ring);
  const inner = annulusDataFraction(img, layout, REFLECTIVITY_SCALE, ...zones.inner);
  const outer = annulusDataFraction(img, layout, REFLECTIVITY_SCALE, ...zones.outer);
  assert.ok(ring.pixels > 1000, `ring annulus has ${ring.pixels} pixels`);
  assert.ok(ring.fraction > 0.5, `only ${(ring.fraction * 100).toFixed(1)} % of the ring shows echo`);
  assert.ok(inner.fraction < 0.01, `${(inner.fraction * 100).toFixed(1)} % echo inside the ring`);
  assert.ok(outer.fraction < 0.01, `${(outer.fraction * 100).toFixed(1)} % echo outside the ring`);
});

test('the picture after a BUFR round trip is the same picture', () => {
  const volume = makeSyntheticVolume({ radar: 'RMA11', elevations: [0.5, 1.3] });
  const back = readRadarVolumeSync(encodeRadarVolume(volume), { fileName: volume.fileName as string });
  assert.deepEqual(renderPpiPng(back, { size: 200 }), renderPpiPng(volume, { size: 200 }));
});

test('the lowest sweep is the lowest elevation with data, whatever the sweep order', () => {
  const volume = makeSyntheticVolume({ elevations: [1.3, 0.5, 2.3] });
  assert.equal(lowestSweep(volume).elevation, 0.5);
  // A placeholder sweep without any valid value is skipped.
  const low = volume.sweeps[1];
  assert.ok(low !== undefined);
  low.values.fill(Number.MAX_VALUE);
  assert.equal(lowestSweep(volume).elevation, 1.3);
  assert.equal(renderPpiRgba(volume, { size: 128 }).sweep.elevation, 1.3);
});

test('the legend shows every colour of the scale, and range rings are drawn', () => {
  const volume = makeSyntheticVolume({ elevations: [0.5] });
  const image = renderPpiRgba(volume, { size: 480 });
  const img = { width: image.width, height: image.height, data: image.data };
  const legend = new Set<number>();
  for (let y = 0; y < img.height; y++) {
    for (let x = image.layout.legendX; x < img.width; x++) {
      const k = REFLECTIVITY_SCALE.steps.findIndex((s) => {
        const i = (y * img.width + x) * 4;
        return img.data[i] === s.color[0] && img.data[i + 1] === s.color[1] && img.data[i + 2] === s.color[2];
      });
      if (k >= 0) legend.add(k);
    }
  }
  assert.equal(legend.size, REFLECTIVITY_SCALE.steps.length);
  // The 50 km ring crosses the north radial.
  const { cx, cy, kmPerPx } = image.layout;
  const y50 = Math.round(cy - 50 / kmPerPx);
  let ringPixels = 0;
  for (let y = y50 - 2; y <= y50 + 2; y++) {
    const i = (y * img.width + Math.floor(cx - 1)) * 4;
    if (img.data[i] === PPI_COLORS.ring[0] && img.data[i + 1] === PPI_COLORS.ring[1]) ringPixels++;
  }
  assert.ok(ringPixels >= 1, 'no 50 km ring on the north radial');
  assert.ok(image.dataPixels > 0);
  assert.equal(isScaleColor(img, 0, 0, REFLECTIVITY_SCALE), false);
});

test('field scales: reflectivity, velocity and ZDR have their own; unknown fields get a ramp over the data', () => {
  const table: { field: string; expected: unknown }[] = [
    { field: 'DBZH', expected: REFLECTIVITY_SCALE },
    { field: 'DBZV', expected: REFLECTIVITY_SCALE },
    { field: 'TH', expected: REFLECTIVITY_SCALE },
    { field: 'VRAD', expected: VELOCITY_SCALE },
    { field: 'ZDR', expected: ZDR_SCALE },
  ];
  for (const { field, expected } of table) assert.equal(scaleForField(field), expected, field);
  const ramp = scaleForField('KDP', { min: -1, max: 4 });
  assert.equal(ramp.steps[0]?.from, -1);
  assert.ok((ramp.steps.at(-1)?.from ?? 0) < 4);
});

test('stepIndex: below the scale is not drawn, above it takes the top colour', () => {
  const cases: [number, number][] = [
    [4.9, -1],
    [5, 0],
    [9.99, 0],
    [10, 1],
    [52, 9],
    [75, 14],
    [500, 14],
    [Number.NaN, -1],
  ];
  for (const [v, k] of cases) assert.equal(stepIndex(REFLECTIVITY_SCALE, v), k, String(v));
});

test('bad options are refused naming the option', () => {
  const volume = makeSyntheticVolume({ elevations: [0.5] });
  assert.throws(() => renderPpiRgba(volume, { size: 10 }), InvalidArgumentError);
  assert.throws(() => renderPpiRgba(volume, { sweep: 3 }), /sweep/);
});
