/**
 * PPI quick-look: the lowest sweep of one radar volume, polar to cartesian, coloured with the
 * field's standard scale, with range rings, a legend and a title, encoded as PNG (pngjs).
 *
 * Geometry: north is up, azimuth clockwise. Ray i is centred on `firstAzimuth + i * 360/nrays`
 * (rays evenly cover the circle, as in RMA volumes); gate g covers
 * `[firstGateOffset + g * gateSize, firstGateOffset + (g + 1) * gateSize)` metres. Each output
 * pixel takes the value of the ray and gate under its centre (nearest neighbour: a quick-look,
 * not a product).
 */
import { PNG } from 'pngjs';
import { InvalidArgumentError } from '../errors.js';
import { FILL, NO_DATA, type RadarSweep, type RadarVolume } from '../radar/model.js';
import { drawText, GLYPH_HEIGHT, textWidth, type Rgb } from './font.js';
import { scaleForField, stepIndex, type ColorScale } from './scales.js';

/** Colours of everything that is not data (exported so tests can tell data from decoration). */
export const PPI_COLORS = {
  background: [12, 17, 28] as Rgb,
  disc: [24, 32, 48] as Rgb,
  ring: [110, 120, 140] as Rgb,
  text: [226, 230, 238] as Rgb,
} as const;

export interface PpiOptions {
  /** Side of the square plot in pixels (the legend is added to the right). @default 480 */
  size?: number;
  /** Sweep index to draw. @default the lowest-elevation sweep that has data */
  sweep?: number;
  /** Range shown at the plot edge, km. @default the sweep's full range */
  maxRangeKm?: number;
  /** Colour scale. @default the field's standard scale (`scaleForField`) */
  scale?: ColorScale;
  /** Distance between range rings, km. @default 25, 50 or 100 km, so 2-4 rings show */
  ringStepKm?: number;
}

/** Where the radar and the range circle sit in the image. */
export interface PpiLayout {
  /** Image size (plot + legend). */
  width: number;
  height: number;
  /** Radar position, pixels (pixel centres are at +0.5). */
  cx: number;
  cy: number;
  /** Radius of the `maxRangeKm` circle, pixels. */
  radiusPx: number;
  maxRangeKm: number;
  kmPerPx: number;
  /** Left edge of the legend panel. */
  legendX: number;
}

export interface PpiImage {
  width: number;
  height: number;
  /** RGBA, row-major. */
  data: Uint8Array;
  layout: PpiLayout;
  sweep: RadarSweep;
  scale: ColorScale;
  /** Pixels coloured from data (for tests and logs). */
  dataPixels: number;
}

const LEGEND_WIDTH = 92;
const MARGIN = 6;

/** The image layout for a plot of `size` pixels showing `maxRangeKm`. */
export function ppiLayout(size: number, maxRangeKm: number): PpiLayout {
  const radiusPx = size / 2 - MARGIN;
  return {
    width: size + LEGEND_WIDTH,
    height: size,
    cx: size / 2,
    cy: size / 2,
    radiusPx,
    maxRangeKm,
    kmPerPx: maxRangeKm / radiusPx,
    legendX: size,
  };
}

function isValid(v: number): boolean {
  return v === v && v !== NO_DATA && v !== FILL;
}

/** The lowest-elevation sweep with at least one valid value (else the first sweep). */
export function lowestSweep(volume: RadarVolume): RadarSweep {
  let best: RadarSweep | undefined;
  for (const s of volume.sweeps) {
    if (best !== undefined && s.elevation >= best.elevation) continue;
    if (s.values.some(isValid)) best = s;
  }
  const chosen = best ?? volume.sweeps[0];
  if (chosen === undefined) throw new InvalidArgumentError('volume', `${volume.radar} has no sweeps`);
  return chosen;
}

/** Full range of a sweep, km. */
export function sweepRangeKm(s: RadarSweep): number {
  return (s.firstGateOffset + s.ngates * s.gateSize) / 1000;
}

function valueRange(values: Float64Array): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (!isValid(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? { min, max } : { min: 0, max: 1 };
}

function defaultRingStep(maxRangeKm: number): number {
  if (maxRangeKm > 300) return 100;
  if (maxRangeKm > 120) return 50;
  return 25;
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

/** Renders the quick-look into an RGBA buffer. */
export function renderPpiRgba(volume: RadarVolume, options: PpiOptions = {}): PpiImage {
  const size = options.size ?? 480;
  if (!Number.isInteger(size) || size < 64 || size > 4096) {
    throw new InvalidArgumentError('size', `${size} is not an integer in 64..4096`);
  }
  let sweep: RadarSweep;
  if (options.sweep === undefined) sweep = lowestSweep(volume);
  else {
    const s = volume.sweeps[options.sweep];
    if (s === undefined) {
      throw new InvalidArgumentError('sweep', `${options.sweep} not in 0..${volume.sweeps.length - 1}`);
    }
    sweep = s;
  }
  const maxRangeKm = options.maxRangeKm ?? sweepRangeKm(sweep);
  const scale = options.scale ?? scaleForField(volume.field, valueRange(sweep.values));
  const layout = ppiLayout(size, maxRangeKm);
  const { width, height, cx, cy, radiusPx, kmPerPx } = layout;
  const data = new Uint8Array(width * height * 4);
  const put = (i: number, c: Rgb): void => {
    data[i] = c[0];
    data[i + 1] = c[1];
    data[i + 2] = c[2];
    data[i + 3] = 255;
  };

  const { nrays, ngates, gateSize, firstGateOffset, firstAzimuth, values } = sweep;
  const raysPerDeg = nrays / 360;
  const ringStep = options.ringStepKm ?? defaultRingStep(maxRangeKm);
  const ringStepPx = ringStep / kmPerPx;
  let dataPixels = 0;

  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      const rPx = Math.hypot(dx, dy);
      if (x >= layout.legendX || rPx > radiusPx + 0.5) {
        put(i, PPI_COLORS.background);
        continue;
      }
      // Range rings (and the edge circle) are drawn over the data so distances stay readable.
      const nearestRing = Math.round(rPx / ringStepPx) * ringStepPx;
      if ((nearestRing > 0 && Math.abs(rPx - nearestRing) < 0.6) || Math.abs(rPx - radiusPx) < 0.6) {
        put(i, PPI_COLORS.ring);
        continue;
      }
      const rangeM = rPx * kmPerPx * 1000;
      const gate = Math.floor((rangeM - firstGateOffset) / gateSize);
      let color: Rgb = PPI_COLORS.disc;
      if (gate >= 0 && gate < ngates) {
        // Azimuth clockwise from north; screen y grows downward.
        const az = (Math.atan2(dx, -dy) * 180) / Math.PI;
        const rel = (((az - firstAzimuth) % 360) + 360) % 360;
        const ray = Math.round(rel * raysPerDeg) % nrays;
        const v = values[ray * ngates + gate] as number;
        if (isValid(v)) {
          const k = stepIndex(scale, v);
          if (k >= 0) {
            color = (scale.steps[k] as { color: Rgb }).color;
            dataPixels++;
          }
        }
      }
      put(i, color);
    }
  }

  // Ring labels along the north radial.
  for (let r = ringStep; r < maxRangeKm; r += ringStep) {
    const py = Math.round(cy - r / kmPerPx) + 2;
    drawText(data, width, height, Math.round(cx) + 3, py, `${fmt(r)}KM`, PPI_COLORS.ring);
  }
  // Title (top left) and time (bottom left): the corners are outside the range circle.
  drawText(data, width, height, 6, 6, `${volume.radar} ${volume.field}`, PPI_COLORS.text, 2);
  drawText(
    data,
    width,
    height,
    6,
    6 + 2 * GLYPH_HEIGHT + 4,
    `EL ${sweep.elevation.toFixed(1)}`,
    PPI_COLORS.text,
  );
  const time = volume.time.toISOString().replace('T', ' ').slice(0, 19);
  drawText(data, width, height, 6, height - GLYPH_HEIGHT - 6, `${time}Z`, PPI_COLORS.text);
  drawLegend(data, layout, scale);
  return { width, height, data, layout, sweep, scale, dataPixels };
}

/** Colour boxes from the highest step (top) down, each labelled with its lower bound. */
function drawLegend(data: Uint8Array, layout: PpiLayout, scale: ColorScale): void {
  const { width, height, legendX } = layout;
  const x0 = legendX + 8;
  drawText(data, width, height, x0, 8, scale.label, PPI_COLORS.text, 2);
  const top = 8 + 2 * GLYPH_HEIGHT + 8;
  const n = scale.steps.length;
  const boxH = Math.max(8, Math.min(24, Math.floor((height - top - 10) / Math.max(1, n))));
  for (let k = 0; k < n; k++) {
    const step = scale.steps[n - 1 - k] as { from: number; color: Rgb };
    const y0 = top + k * boxH;
    for (let y = y0; y < y0 + boxH - 1 && y < height; y++) {
      for (let x = x0; x < x0 + 20; x++) {
        const i = (y * width + x) * 4;
        data[i] = step.color[0];
        data[i + 1] = step.color[1];
        data[i + 2] = step.color[2];
        data[i + 3] = 255;
      }
    }
    const label = fmt(step.from);
    const ty = y0 + Math.floor((boxH - GLYPH_HEIGHT) / 2);
    if (textWidth(label) < width - x0 - 24)
      drawText(data, width, height, x0 + 26, ty, label, PPI_COLORS.text);
  }
}

/** Encodes an RGBA image as PNG. */
export function encodePng(image: { width: number; height: number; data: Uint8Array }): Buffer {
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return PNG.sync.write(png);
}

/** Renders the quick-look of `volume` as PNG bytes. */
export function renderPpiPng(volume: RadarVolume, options: PpiOptions = {}): Buffer {
  return encodePng(renderPpiRgba(volume, options));
}
