/** Reading quick-look PNGs back in tests: which pixels carry data, and where. */
import { PNG } from 'pngjs';
import type { ColorScale } from '../../src/render/scales.js';
import type { PpiLayout } from '../../src/render/ppi.js';

export interface DecodedPng {
  width: number;
  height: number;
  data: Uint8Array;
}

export function decodePng(bytes: Buffer): DecodedPng {
  const png = PNG.sync.read(bytes);
  return { width: png.width, height: png.height, data: png.data };
}

/** True when the pixel's colour is one of the scale's colours (data, not decoration). */
export function isScaleColor(img: DecodedPng, x: number, y: number, scale: ColorScale): boolean {
  const i = (y * img.width + x) * 4;
  return scale.steps.some(
    (s) => img.data[i] === s.color[0] && img.data[i + 1] === s.color[1] && img.data[i + 2] === s.color[2],
  );
}

/** Share of pixels whose centre lies between `fromKm` and `toKm` of the radar that show data. */
export function annulusDataFraction(
  img: DecodedPng,
  layout: PpiLayout,
  scale: ColorScale,
  fromKm: number,
  toKm: number,
): { fraction: number; pixels: number } {
  let data = 0;
  let pixels = 0;
  const r0 = fromKm / layout.kmPerPx;
  const r1 = toKm / layout.kmPerPx;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < layout.legendX; x++) {
      const r = Math.hypot(x + 0.5 - layout.cx, y + 0.5 - layout.cy);
      if (r < r0 || r >= r1) continue;
      pixels++;
      if (isScaleColor(img, x, y, scale)) data++;
    }
  }
  return { fraction: pixels === 0 ? 0 : data / pixels, pixels };
}

/** Where `makeSyntheticVolume` puts its echo ring, km: centre ± the part that is always filled. */
export function syntheticRingKm(sweep: { ngates: number; gateSize: number; firstGateOffset: number }): {
  inner: [number, number];
  ring: [number, number];
  outer: [number, number];
} {
  const km = (g: number): number => (sweep.firstGateOffset + g * sweep.gateSize) / 1000;
  const n = sweep.ngates;
  // Lowest sweep: ring centre at 0.5 n gates, width 0.1 n, wobble ±0.05 n; the convective cell
  // sits between 0.2 n and 0.5 n (±10 gates). Inside 0.15 n and beyond 0.7 n there is no echo.
  return {
    inner: [km(0.02 * n), km(0.15 * n)],
    ring: [km(0.47 * n), km(0.53 * n)],
    outer: [km(0.72 * n), km(0.95 * n)],
  };
}
