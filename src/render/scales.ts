/**
 * Colour scales for quick-looks, as data: each step colours the values from its `from` up to the
 * next step's `from`; values below the first step are not drawn (the background shows).
 *
 * The reflectivity scale is the classic 5 dBZ NWS/NEXRAD ramp (light blue at 5 dBZ, greens,
 * yellow at 35, red at 50, magenta at 65, white at 75) that radar users read without a legend.
 */
import type { Rgb } from './font.js';

export interface ScaleStep {
  /** Lowest value drawn in this colour. */
  from: number;
  color: Rgb;
}

export interface ColorScale {
  /** Name shown in legends, e.g. `DBZ`. */
  label: string;
  units: string;
  /** Ascending by `from`. */
  steps: readonly ScaleStep[];
}

function hex(h: string): Rgb {
  const n = Number.parseInt(h.slice(1), 16);
  return [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

function steps(from: number, step: number, colors: readonly string[]): ScaleStep[] {
  return colors.map((c, i) => ({ from: from + i * step, color: hex(c) }));
}

/** NWS reflectivity ramp, 5 to 75+ dBZ. */
export const REFLECTIVITY_SCALE: ColorScale = {
  label: 'DBZ',
  units: 'dBZ',
  steps: steps(5, 5, [
    '#04e9e7',
    '#019ff4',
    '#0300f4',
    '#02fd02',
    '#01c501',
    '#008e00',
    '#fdf802',
    '#e5bc00',
    '#fd9500',
    '#fd0000',
    '#d40000',
    '#bc0000',
    '#f800fd',
    '#9854c6',
    '#fdfdfd',
  ]),
};

/** Radial velocity, -30 to +30 m/s: greens toward the radar, reds away. */
export const VELOCITY_SCALE: ColorScale = {
  label: 'M/S',
  units: 'm/s',
  steps: steps(-30, 5, [
    '#00e0ff',
    '#0090ff',
    '#00b000',
    '#00d800',
    '#60f060',
    '#a0c0a0',
    '#c0a0a0',
    '#f06060',
    '#ff2020',
    '#c00000',
    '#ff9000',
    '#ffe000',
  ]),
};

/** Differential reflectivity, -2 to +6 dB. */
export const ZDR_SCALE: ColorScale = {
  label: 'DB',
  units: 'dB',
  steps: steps(-2, 1, [
    '#5050c0',
    '#7090e0',
    '#a0c8f0',
    '#60c060',
    '#f0f040',
    '#f0a030',
    '#e04020',
    '#b00060',
  ]),
};

/** A neutral ramp for any other moment, over a given range. */
export function rampScale(label: string, units: string, lo: number, hi: number): ColorScale {
  const colors = [
    '#30123b',
    '#4145ab',
    '#4675ed',
    '#39a2fc',
    '#1bcfd4',
    '#24eca6',
    '#61fc6c',
    '#a4fc3b',
    '#d1e834',
    '#f3c63a',
    '#fe9b2d',
    '#f36315',
    '#d93806',
    '#b11901',
    '#7a0402',
  ];
  const span = hi > lo ? hi - lo : 1;
  return {
    label,
    units,
    steps: colors.map((c, i) => ({ from: lo + (span * i) / colors.length, color: hex(c) })),
  };
}

/** The scale for a field name (DBZH, VRAD, ZDR ...); `range` is used for unknown fields. */
export function scaleForField(
  field: string,
  range: { min: number; max: number } = { min: 0, max: 1 },
): ColorScale {
  switch (field.toUpperCase()) {
    case 'DBZH':
    case 'DBZV':
    case 'TH':
    case 'TV':
      return REFLECTIVITY_SCALE;
    case 'VRAD':
    case 'VRADH':
      return VELOCITY_SCALE;
    case 'ZDR':
      return ZDR_SCALE;
    default:
      return rampScale(field.toUpperCase(), '', range.min, range.max);
  }
}

/** Index of the step colouring `value`, or -1 when it is below the scale (or not a number). */
export function stepIndex(scale: ColorScale, value: number): number {
  const s = scale.steps;
  if (!(value >= (s[0]?.from ?? Infinity))) return -1;
  let lo = 0;
  let hi = s.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((s[mid] as ScaleStep).from <= value) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
