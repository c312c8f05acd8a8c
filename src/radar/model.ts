/**
 * The radar volume data model, apart from any file format (as xradar keeps `model.py` apart from
 * its backends). `radarlib/bufr` produces it; other readers could too.
 *
 * Geometry: a sweep's values are `nrays x ngates` float64, ray-major (all gates of ray 0, then
 * ray 1, ...). Ray 0 points at `firstAzimuth`; gate g's centre distance is not stored in the
 * files: `firstGateOffset + g * gateSize` is the start of gate g, in metres.
 */

/** Moment (field) names as the RMA file names and ODIM use them. */
export type MomentName = 'DBZH' | 'DBZV' | 'ZDR' | 'KDP' | 'VRAD' | 'WRAD' | 'RHOHV' | 'PHIDP' | 'TH' | 'TV';

/** What radarlib knows about one moment (field): its name, product code, unit and description. */
export interface MomentInfo {
  name: MomentName;
  /** Product code in descriptor 0 30 196 (centre 41 local code table), when one is known. */
  code: number | null;
  /** CF standard name (as in xradar's `sweep_vars_mapping`). */
  standardName: string;
  longName: string;
  units: string;
}

/** The moment-name table. Codes come from the INVAP code table `localtabc_41_2`. */
export const MOMENTS: Readonly<Record<MomentName, MomentInfo>> = {
  DBZH: {
    name: 'DBZH',
    code: 0,
    standardName: 'radar_equivalent_reflectivity_factor_h',
    longName: 'Equivalent reflectivity factor H',
    units: 'dBZ',
  },
  DBZV: {
    name: 'DBZV',
    code: 233,
    standardName: 'radar_equivalent_reflectivity_factor_v',
    longName: 'Equivalent reflectivity factor V (corrected)',
    units: 'dBZ',
  },
  ZDR: {
    name: 'ZDR',
    code: 80,
    standardName: 'radar_differential_reflectivity_hv',
    longName: 'Log differential reflectivity H/V',
    units: 'dB',
  },
  KDP: {
    name: 'KDP',
    code: 240,
    standardName: 'radar_specific_differential_phase_hv',
    longName: 'Specific differential phase HV',
    units: 'degrees/km',
  },
  VRAD: {
    name: 'VRAD',
    code: 40,
    standardName: 'radial_velocity_of_scatterers_away_from_instrument',
    longName: 'Radial velocity of scatterers away from instrument',
    units: 'm/s',
  },
  WRAD: {
    name: 'WRAD',
    code: 60,
    standardName: 'radar_doppler_spectrum_width',
    longName: 'Doppler spectrum width',
    units: 'm/s',
  },
  RHOHV: {
    name: 'RHOHV',
    code: null,
    standardName: 'radar_correlation_coefficient_hv',
    longName: 'Correlation coefficient HV',
    units: 'unitless',
  },
  PHIDP: {
    name: 'PHIDP',
    code: null,
    standardName: 'radar_differential_phase_hv',
    longName: 'Differential phase HV',
    units: 'degrees',
  },
  TH: {
    name: 'TH',
    code: null,
    standardName: 'radar_equivalent_reflectivity_factor_h',
    longName: 'Total power H (uncorrected reflectivity)',
    units: 'dBZ',
  },
  TV: {
    name: 'TV',
    code: null,
    standardName: 'radar_equivalent_reflectivity_factor_v',
    longName: 'Total power V (uncorrected reflectivity)',
    units: 'dBZ',
  },
};

const BY_CODE = new Map<number, MomentInfo>(
  Object.values(MOMENTS)
    .filter((m) => m.code !== null)
    .map((m) => [m.code as number, m]),
);

/** The moment for a 0 30 196 product code, if known. */
export function momentByCode(code: number): MomentInfo | undefined {
  return BY_CODE.get(code);
}

/** The moment for a name such as `DBZH`, if known. */
export function momentByName(name: string): MomentInfo | undefined {
  return (MOMENTS as Readonly<Record<string, MomentInfo>>)[name];
}

/** Product type 90 = "volumen con datos L2" (polar volume, level 2), the sweep-level code in RMA files. */
export const PRODUCT_TYPE_L2_VOLUME = 90;

/** Value conventions found in real RMA files (see docs/BUFR.md "No-data conventions"). */
export const NO_DATA = -Number.MAX_VALUE;
/** +DBL_MAX fills whole rays and placeholder sweeps: "not scanned". */
export const FILL = Number.MAX_VALUE;

/** Per-value classes used by the optional mask. */
export const ValueClass = {
  valid: 0,
  /** -DBL_MAX: no data (below threshold / not measured). */
  noData: 1,
  /** +DBL_MAX: fill (ray or sweep not scanned). */
  fill: 2,
  /** NaN (seen in VRAD files as a widened float32 NaN). */
  nan: 3,
} as const;
export type ValueClass = (typeof ValueClass)[keyof typeof ValueClass];

/** A further moment stored in the same sweep (none in real RMA files, allowed by the format). */
export interface RadarMoment {
  /** 0 30 196 product code of the moment. */
  momentCode: number;
  values: Float64Array;
  mask?: Uint8Array;
}

/** One sweep (elevation) of a volume: its geometry and its values, `nrays x ngates`, ray-major. */
export interface RadarSweep {
  /** 0-based position in the volume. */
  index: number;
  /** Antenna elevation, degrees. */
  elevation: number;
  nrays: number;
  ngates: number;
  /** Range-bin size, metres. */
  gateSize: number;
  /** Range-bin offset (distance to the first gate), metres. */
  firstGateOffset: number;
  startTime: Date;
  /** Can be earlier than `startTime` in placeholder sweeps of real files; kept as stored. */
  endTime: Date;
  /** Azimuth of ray 0, degrees. Ray 0 is not necessarily north. */
  firstAzimuth: number;
  /** Sweep-level product type (90 = L2 volume in RMA files). */
  productType: number;
  /** Moment code of the (first) parameter, e.g. 0 = DBZH, 240 = KDP. */
  momentCode: number;
  /** Compression of the payload (0 = zlib). */
  compressionMethod: number;
  /** `nrays * ngates` values, ray-major; exactly the inflated payload unless `noData: 'nan'`. */
  values: Float64Array;
  /** Per-value {@link ValueClass}, only when read with `mask: true`. */
  mask?: Uint8Array;
  /** Parameters after the first, in file order (empty in every real file seen). */
  additionalMoments: RadarMoment[];
}

/**
 * A decoded radar volume: the radar, its site, the time, the field, and every sweep's values.
 * What {@link readRadarVolume} returns and {@link encodeRadarVolume} writes.
 */
export interface RadarVolume {
  /** Radar name, e.g. `RMA11` (station identifier type + identifier, else the file name). */
  radar: string;
  /** 0 01 192 "type of station identifier", trailing NULs/spaces removed (e.g. `RMA`). */
  stationIdType: string;
  /** 0 01 193 "station identifier", trailing NULs/spaces removed (e.g. `11`). */
  stationId: string;
  wmoBlock: number;
  wmoStation: number;
  stationType: number;
  /** Degrees north. */
  latitude: number;
  /** Degrees east. */
  longitude: number;
  /** Station height, metres. */
  height: number;
  /** Nominal volume time from section 1 (UTC, with seconds). */
  time: Date;
  /** Field name: from the file name when known, else from the moment code, else `UNKNOWN`. */
  field: string;
  /** Scan strategy from the file name (e.g. `0315`), `null` without a conventional name. */
  strategy: string | null;
  /** Volume number within the strategy from the file name (e.g. `01`), or `null`. */
  volumeNumber: string | null;
  /** Base name of the file read, or the `fileName` option; `null` for anonymous bytes. */
  fileName: string | null;
  sweeps: RadarSweep[];
}
