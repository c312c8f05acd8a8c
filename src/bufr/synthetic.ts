/**
 * Plausible synthetic radar volumes for tests, demos and benchmarks: an echo ring with texture,
 * no-data (-DBL_MAX) outside the echoes, a few +DBL_MAX fill rays, values exactly representable
 * as float32 (like the real files). Deterministic for a given seed.
 */

import { InvalidArgumentError } from '../errors.js';
import {
  FILL,
  momentByName,
  NO_DATA,
  PRODUCT_TYPE_L2_VOLUME,
  type RadarSweep,
  type RadarVolume,
} from '../radar/model.js';
import { radarVolumeFileName } from '../radar/filename.js';
import { seededRandom as prng } from '../util/prng.js';

/** Options of {@link makeSyntheticVolume}: every property of the made-up volume, each with a default. */
export interface SyntheticVolumeOptions {
  /** Radar name; split into station id type (letters) and id (rest). @default 'RMA11' */
  radar?: string;
  /** Volume time (whole seconds). @default 2025-10-20T15:28:28Z */
  time?: Date;
  /** Field name; its moment code comes from the moment table. @default 'DBZH' */
  field?: string;
  /** Rays per sweep. @default 360 */
  nrays?: number;
  /** Gates per sweep (all sweeps), at most 4095. @default 480 */
  ngates?: number;
  /** Elevations in degrees (2 decimals). @default [0.5, 1.3, 2.3, 3.5] */
  elevations?: readonly number[];
  /** Gate size in metres. @default 360 */
  gateSize?: number;
  /** Distance to the first gate in metres (multiple of 10). @default 1770 */
  firstGateOffset?: number;
  /** Seconds per sweep. @default 25 */
  sweepSeconds?: number;
  /** @default -27.5026 */
  latitude?: number;
  /** @default -64.90575 */
  longitude?: number;
  /** @default 313 */
  height?: number;
  /** Scan strategy and volume number, as in file names. @default '0315', '01' (volume number null when strategy is null) */
  strategy?: string | null;
  volumeNumber?: string | null;
  /** PRNG seed. @default 1 */
  seed?: number;
}

/** Value ranges per moment family, for plausible numbers. */
function rangeFor(field: string): { lo: number; hi: number } {
  switch (field) {
    case 'VRAD':
      return { lo: -30, hi: 30 };
    case 'WRAD':
      return { lo: 0, hi: 8 };
    case 'ZDR':
      return { lo: -2, hi: 6 };
    case 'KDP':
      return { lo: -1, hi: 4 };
    default:
      return { lo: -15, hi: 55 };
  }
}

/** The moment code of `field`, which must have one to be written. */
function momentCodeOf(field: string): number {
  const code = momentByName(field)?.code;
  if (code === null || code === undefined) {
    throw new InvalidArgumentError(
      'field',
      `${field} has no known moment code (use one of DBZH, DBZV, ZDR, KDP, VRAD, WRAD)`,
    );
  }
  return code;
}

/**
 * One sweep's values: no data everywhere but an echo ring at 40-60 % of the range (thinning with
 * elevation) and a cell, each value a float32; sweep 1 has a few fill rays (not scanned), as in
 * real files. Draws from `rand` in a fixed order, so a seed gives the same values.
 */
function echoValues(
  rand: () => number,
  index: number,
  grid: { nrays: number; ngates: number },
  range: { lo: number; hi: number },
): Float64Array {
  const { nrays, ngates } = grid;
  const { lo, hi } = range;
  const values = new Float64Array(nrays * ngates).fill(NO_DATA);
  const ringCentre = ngates * (0.5 - 0.05 * index);
  const ringWidth = Math.max(2, ngates * 0.1);
  const cellRay = Math.floor(rand() * nrays);
  const cellGate = Math.floor(ngates * (0.2 + 0.3 * rand()));
  for (let r = 0; r < nrays; r++) {
    const wobble = Math.sin((r / nrays) * 2 * Math.PI * 3) * ringWidth * 0.5;
    for (let g = 0; g < ngates; g++) {
      const d = Math.abs(g - ringCentre - wobble) / ringWidth;
      const dr = Math.min(Math.abs(r - cellRay), nrays - Math.abs(r - cellRay));
      const cell = Math.hypot(dr / 6, (g - cellGate) / 10);
      const strength = Math.max(1 - d, 1 - cell);
      if (strength > 0 && rand() < 0.9) {
        const v = lo + (hi - lo) * Math.min(1, strength * (0.7 + 0.3 * rand()));
        values[r * ngates + g] = Math.fround(v);
      }
    }
  }
  if (index === 1 && nrays > 10) values.fill(FILL, 5 * ngates, 8 * ngates);
  return values;
}

/**
 * Builds a synthetic volume. `readRadarVolumeSync(encodeRadarVolume(v), { fileName: v.fileName })`
 * reproduces it exactly; with `strategy: null` (and so `fileName: null`) no name is needed.
 */
export function makeSyntheticVolume(options: SyntheticVolumeOptions = {}): RadarVolume {
  const radar = options.radar ?? 'RMA11';
  const field = options.field ?? 'DBZH';
  const nrays = options.nrays ?? 360;
  const ngates = options.ngates ?? 480;
  const elevations = options.elevations ?? [0.5, 1.3, 2.3, 3.5];
  const time = options.time ?? new Date(Date.UTC(2025, 9, 20, 15, 28, 28));
  const sweepSeconds = options.sweepSeconds ?? 25;
  const rand = prng(options.seed ?? 1);
  const momentCode = momentCodeOf(field);
  if (!Number.isInteger(nrays) || nrays < 1 || nrays > 2046)
    throw new InvalidArgumentError('nrays', `${nrays} not in 1..2046`);
  if (!Number.isInteger(ngates) || ngates < 1 || ngates > 4094)
    throw new InvalidArgumentError('ngates', `${ngates} not in 1..4094`);
  const range = rangeFor(field);

  const sweeps: RadarSweep[] = elevations.map((elevation, index) => {
    const values = echoValues(rand, index, { nrays, ngates }, range);
    const startTime = new Date(time.getTime() + index * sweepSeconds * 1000);
    const endTime = new Date(startTime.getTime() + Math.max(0, sweepSeconds - 1) * 1000);
    return {
      index,
      elevation,
      nrays,
      ngates,
      gateSize: options.gateSize ?? 360,
      firstGateOffset: options.firstGateOffset ?? 1770,
      startTime,
      endTime,
      firstAzimuth: Math.floor(rand() * 360),
      productType: PRODUCT_TYPE_L2_VOLUME,
      momentCode,
      compressionMethod: 0,
      values,
      additionalMoments: [],
    };
  });
  const strategy = options.strategy === undefined ? '0315' : options.strategy;
  const volumeNumber =
    options.volumeNumber === undefined ? (strategy === null ? null : '01') : options.volumeNumber;
  // Station id type: the name's leading letters; station id: the rest.
  const [, stationIdType = '', stationId = ''] = /^([A-Za-z]*)(.*)$/.exec(radar) ?? [];
  return {
    radar,
    stationIdType,
    stationId,
    wmoBlock: 0,
    wmoStation: 0,
    stationType: 0,
    latitude: options.latitude ?? -27.5026,
    longitude: options.longitude ?? -64.90575,
    height: options.height ?? 313,
    time,
    field,
    strategy,
    volumeNumber,
    // The conventional name when there is one, so reading it back with { fileName } is exact.
    fileName:
      strategy === null || volumeNumber === null
        ? null
        : radarVolumeFileName({ radar, strategy, volumeNumber, field, time }),
    sweeps,
  };
}
