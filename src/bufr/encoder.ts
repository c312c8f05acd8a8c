/**
 * `encodeRadarVolume`: writes a {@link RadarVolume} in the structure of the RMA files (edition 4,
 * centre 41, descriptors 3 21 204, 3 01 031, 3 21 203, zlib payload in chunks of 65534 bytes).
 *
 * Every metadata value is encoded through table B (scale, reference, width) and checked to decode
 * back to the same number, so `readRadarVolume(encodeRadarVolume(v))` reproduces `v` exactly or
 * the encoder throws `InvalidArgumentError` naming the field.
 */

import { deflateSync } from 'node:zlib';
import { endianness } from 'node:os';
import { InvalidArgumentError } from '../errors.js';
import type { RadarVolume } from '../radar/model.js';
import { BitWriter } from './bit-writer.js';
import { D, RMA_DESCRIPTORS } from './radar-structure.js';
import { writeMessage } from './section-writer.js';
import { formatDescriptor } from './descriptors.js';
import { elementPlan, newDecodeState, scaled, type ElementPlan } from './operators.js';
import { defaultTableProvider } from './tables/index.js';
import type { BufrTables } from './tables/types.js';

/** Options of {@link encodeRadarVolume}. */
export interface EncodeRadarVolumeOptions {
  /** Bytes per payload chunk (every chunk but the last is this long). @default 65534 */
  chunkSize?: number;
  /** zlib level (0-9). @default 6 (zlib's default; the RMA files use it: header 78 9C) */
  level?: number;
  /** Section 1 international data sub-category. @default 2 (as in RMA files) */
  internationalSubCategory?: number;
  /** Section 1 local table version (1 and 2 are identical). @default 2 */
  localTableVersion?: number;
}

const CENTRE = 41;
const MASTER_TABLE_VERSION = 16;
const DATA_CATEGORY_RADAR = 6;
const MAX_CHUNK = 65534;

/** The RMA structure uses no operator: every element is written as table B defines it. */
const NO_OPERATORS = newDecodeState();

class DataWriter {
  readonly w: BitWriter;
  constructor(
    private readonly tables: BufrTables,
    private readonly localTableVersion: number,
    capacity: number,
  ) {
    this.w = new BitWriter(capacity);
  }

  /** How the decoder will read `code`: width, scale and reference from the same plan. */
  private plan(code: number): ElementPlan {
    const def = this.tables.b.get(code);
    if (def === undefined) {
      throw new InvalidArgumentError(
        'localTableVersion',
        `centre-${CENTRE} local table version ${this.localTableVersion} has no ${formatDescriptor(code)}`,
      );
    }
    return elementPlan(def, NO_OPERATORS);
  }

  /** Encodes a numeric element through its table B entry, refusing values it cannot hold exactly. */
  num(code: number, value: number, field: string): void {
    const plan = this.plan(code);
    const unscaled = plan.scale >= 0 ? value * 10 ** plan.scale : value / 10 ** -plan.scale;
    const raw = Math.round(unscaled) - plan.reference;
    // All ones is "missing" except where the decoder never reads it so (replication factors).
    const max = plan.missing ? 2 ** plan.width - 2 : 2 ** plan.width - 1;
    if (!Number.isFinite(value) || raw < 0 || raw > max || scaled(raw, plan) !== value) {
      const def = this.tables.b.get(code);
      throw new InvalidArgumentError(
        field,
        `${value} cannot be stored exactly in ${def?.name ?? formatDescriptor(code)} (scale ${plan.scale}, reference ${plan.reference}, ${plan.width} bits)`,
      );
    }
    this.w.writeUint(plan.width, raw);
  }

  text(code: number, value: string, field: string): void {
    const n = this.plan(code).width / 8;
    if (value.length > n || [...value].some((ch) => ch.charCodeAt(0) > 0xfe)) {
      throw new InvalidArgumentError(
        field,
        `${JSON.stringify(value)} does not fit in ${n} latin1 characters`,
      );
    }
    this.w.writeText(n, value);
  }

  time(t: Date, withSeconds: boolean, field: string): void {
    if (!(t instanceof Date) || Number.isNaN(t.getTime()) || t.getUTCMilliseconds() !== 0) {
      throw new InvalidArgumentError(field, 'must be a valid Date with whole seconds');
    }
    this.num(D.year, t.getUTCFullYear(), `${field} (year)`);
    this.num(D.month, t.getUTCMonth() + 1, field);
    this.num(D.day, t.getUTCDate(), field);
    this.num(D.hour, t.getUTCHours(), field);
    this.num(D.minute, t.getUTCMinutes(), field);
    if (withSeconds) this.num(D.second, t.getUTCSeconds(), field);
  }
}

function payloadBytes(values: Float64Array): Uint8Array {
  if (endianness() === 'LE') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat64(i * 8, v, true));
  return out;
}

/** Writes a radar volume as one BUFR message (the bytes of a complete file). */
export function encodeRadarVolume(volume: RadarVolume, options: EncodeRadarVolumeOptions = {}): Uint8Array {
  const chunkSize = options.chunkSize ?? MAX_CHUNK;
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK) {
    throw new InvalidArgumentError('chunkSize', `${chunkSize} is not an integer in 1..${MAX_CHUNK}`);
  }
  const localTableVersion = options.localTableVersion ?? 2;
  const tables = defaultTableProvider({
    masterTable: 0,
    masterTableVersion: MASTER_TABLE_VERSION,
    centre: CENTRE,
    subCentre: 0,
    localTableVersion,
  });
  if (tables === undefined || !tables.b.has(D.payloadByte)) {
    throw new InvalidArgumentError(
      'localTableVersion',
      `no centre-41 local table version ${localTableVersion}`,
    );
  }

  // Compress first: the payload dominates the size and sets the buffer capacity.
  const compressed = volume.sweeps.map((s, i) => {
    const moments = [{ momentCode: s.momentCode, values: s.values }, ...s.additionalMoments];
    return moments.map((m, k) => {
      if (!(m.values instanceof Float64Array) || m.values.length !== s.nrays * s.ngates) {
        throw new InvalidArgumentError(
          `sweeps[${i}].${k === 0 ? 'values' : `additionalMoments[${k - 1}].values`}`,
          `must be a Float64Array of nrays x ngates = ${s.nrays * s.ngates} values`,
        );
      }
      return deflateSync(payloadBytes(m.values), { level: options.level ?? 6 });
    });
  });
  const payloadTotal = compressed.flat().reduce((n, b) => n + b.length, 0);
  const dw = new DataWriter(tables, localTableVersion, payloadTotal + 1024 + volume.sweeps.length * 64);

  // 3 21 204: station identifiers (one replication).
  dw.num(D.factor8, 1, 'station identifiers');
  dw.text(D.stationIdType, volume.stationIdType, 'stationIdType');
  dw.text(D.stationId, volume.stationId, 'stationId');
  // 3 01 031: WMO block/station, type, date and time (minutes), position.
  dw.num(D.wmoBlock, volume.wmoBlock, 'wmoBlock');
  dw.num(D.wmoStation, volume.wmoStation, 'wmoStation');
  dw.num(D.stationType, volume.stationType, 'stationType');
  dw.time(volume.time, false, 'time');
  dw.num(D.latitude, volume.latitude, 'latitude');
  dw.num(D.longitude, volume.longitude, 'longitude');
  dw.num(D.height, volume.height, 'height');
  // 3 21 203: sweeps.
  dw.num(D.factor8, volume.sweeps.length, 'sweeps.length');
  volume.sweeps.forEach((s, i) => {
    const f = `sweeps[${i}]`;
    dw.time(s.startTime, true, `${f}.startTime`);
    dw.time(s.endTime, true, `${f}.endTime`);
    dw.num(D.productType, s.productType, `${f}.productType`);
    dw.num(D.elevation, s.elevation, `${f}.elevation`);
    dw.num(D.ngates, s.ngates, `${f}.ngates`);
    dw.num(D.gateSize, s.gateSize, `${f}.gateSize`);
    dw.num(D.gateOffset, s.firstGateOffset, `${f}.firstGateOffset`);
    dw.num(D.nrays, s.nrays, `${f}.nrays`);
    dw.num(D.azimuth, s.firstAzimuth, `${f}.firstAzimuth`);
    const moments = [s.momentCode, ...s.additionalMoments.map((m) => m.momentCode)];
    dw.num(D.factor8, moments.length, `${f}.additionalMoments.length`);
    moments.forEach((code, k) => {
      const payload = compressed[i]?.[k] as Uint8Array;
      dw.num(D.productType, code, `${f}.momentCode`);
      if (s.compressionMethod !== 0)
        throw new InvalidArgumentError(`${f}.compressionMethod`, 'only 0 (zlib) is written');
      dw.num(D.compression, 0, `${f}.compressionMethod`);
      const nchunks = Math.ceil(payload.length / chunkSize);
      dw.num(D.factor16, nchunks, `${f} chunk count`);
      for (let c = 0; c < nchunks; c++) {
        const chunk = payload.subarray(c * chunkSize, Math.min(payload.length, (c + 1) * chunkSize));
        dw.num(D.factor16, chunk.length, `${f} chunk length`);
        dw.w.writeBytes(chunk);
      }
    });
  });

  const t = volume.time;
  return writeMessage({
    what: 'volume',
    section1: {
      masterTable: 0,
      centre: CENTRE,
      subCentre: 0,
      updateSequence: 0,
      dataCategory: DATA_CATEGORY_RADAR,
      internationalSubCategory: options.internationalSubCategory ?? 2,
      localSubCategory: 0,
      masterTableVersion: MASTER_TABLE_VERSION,
      localTableVersion,
      year: t.getUTCFullYear(),
      month: t.getUTCMonth() + 1,
      day: t.getUTCDate(),
      hour: t.getUTCHours(),
      minute: t.getUTCMinutes(),
      second: t.getUTCSeconds(),
    },
    // One subset of observed data, not compressed, as the RMA files.
    section3: { numberOfSubsets: 1, observed: true, compressed: false, descriptors: RMA_DESCRIPTORS },
    data: dw.w.finish(),
  });
}
