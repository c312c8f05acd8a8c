/**
 * The structure of an RMA / SiNaRaMe radar volume, described once: which element descriptors
 * come in which order, which are replicated and by which factor, and which property of the
 * volume each one holds. `readRadarStructure` (radar-structure.ts) reads decoded messages through
 * it and `encodeRadarVolume` (encoder.ts) writes volumes through it, so reader and writer cannot
 * drift apart. test/bufr/rma-structure.test.ts checks it against table D's expansion of
 * 3 21 204, 3 01 031 and 3 21 203 (centre 41, local table 2).
 *
 * Keys are the property names of `RadarVolume` / `RadarSweep` (radar/model.ts) and of the raw
 * structure the reader returns, so a group's values go straight to and from those objects.
 */

/** One element of the structure: the property it holds and its table B descriptor (FXXYYY). */
export interface StructureElement<K extends string> {
  readonly key: K;
  readonly code: number;
}

/** Elements that follow one another, read and written in this order. */
export type ElementGroup<K extends string> = readonly StructureElement<K>[];

/** The values of a group by key. */
export type GroupValues<G extends ElementGroup<string>> = Record<G[number]['key'], number>;

function element<K extends string>(key: K, code: number): StructureElement<K> {
  return { key, code };
}

/** Delayed replication factors: 0 31 001 (8 bits) and 0 31 002 (16 bits). */
const FACTOR_8 = 31001;
const FACTOR_16 = 31002;

/** 3 21 204, replicated: station identifier type and identifier (CCITT IA5, NUL-padded). */
export const STATION_IDS = [element('stationIdType', 1192), element('stationId', 1193)];

/** 3 01 031, first part: WMO block and station number, type of station. */
export const WMO_STATION = [
  element('wmoBlock', 1001),
  element('wmoStation', 1002),
  element('stationType', 2001),
];

/** 3 01 011 + 3 01 012: date, hour and minute. */
export const DATE_TO_MINUTE = [
  element('year', 4001),
  element('month', 4002),
  element('day', 4003),
  element('hour', 4004),
  element('minute', 4005),
];

/** 3 01 011 + 3 01 013: date and time with seconds. */
export const DATE_TO_SECOND = [...DATE_TO_MINUTE, element('second', 4006)];

/** 3 01 021 + 0 07 001: latitude, longitude, height of station. */
export const POSITION = [element('latitude', 5001), element('longitude', 6001), element('height', 7001)];

/** 3 21 203, per sweep after its start and end time: the scan geometry. */
export const SWEEP_GEOMETRY = [
  element('productType', 30196),
  element('elevation', 2135),
  element('ngates', 30194),
  element('gateSize', 21201),
  element('firstGateOffset', 21203),
  element('nrays', 30195),
  element('firstAzimuth', 2134),
];

/**
 * The whole volume: section 3's descriptors and, in data order, every group and replication.
 * Replication factors are delayed (0 31 001: 8 bits, 0 31 002: 16 bits).
 */
export const RMA_VOLUME = {
  /** Section 3: 3 21 204, 3 01 031, 3 21 203. */
  descriptors: [321204, 301031, 321203],
  /** 3 21 204 = 1 02 000 0 31 001 0 01 192 0 01 193 (one replication in real files). */
  stationIds: { factor: FACTOR_8, each: STATION_IDS },
  /** 3 01 031: identification, nominal date to the minute, position. */
  station: { identification: WMO_STATION, time: DATE_TO_MINUTE, position: POSITION },
  /** 3 21 203 = 1 12 000 0 31 001, then per sweep: */
  sweeps: {
    factor: FACTOR_8,
    /** 3 21 205 = 1 02 002 3 01 011 3 01 013: start time, then end time. */
    times: DATE_TO_SECOND,
    geometry: SWEEP_GEOMETRY,
    /** 1 02 000 0 31 001, then per parameter its moment code and 3 21 206: */
    parameters: {
      factor: FACTOR_8,
      moment: element('momentCode', 30196),
      /** 3 21 206 = 0 30 197 (compression method), 1 03 000 0 31 002 (chunks), per chunk 1 01 000 0 31 002 0 30 198 (bytes). */
      method: element('compressionMethod', 30197),
      chunks: { factor: FACTOR_16, length: FACTOR_16, byte: 30198 },
    },
  },
} as const;
