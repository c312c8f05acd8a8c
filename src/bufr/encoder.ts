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
import { descriptorToWire } from './descriptors.js';
import { D, RMA_DESCRIPTORS } from './radar-structure.js';
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

class DataWriter {
  readonly w: BitWriter;
  constructor(
    private readonly tables: BufrTables,
    capacity: number,
  ) {
    this.w = new BitWriter(capacity);
  }

  /** Encodes a numeric element through its table B entry, refusing values it cannot hold exactly. */
  num(code: number, value: number, field: string): void {
    const def = this.tables.b.get(code);
    if (def === undefined) throw new Error(`table B has no ${code}`);
    const scaledValue = def.scale >= 0 ? value * 10 ** def.scale : value / 10 ** -def.scale;
    const raw = Math.round(scaledValue) - def.reference;
    // Factors (class 31) may use all ones; other fields must stay below the missing pattern.
    const max = Math.floor(code / 1000) === 31 ? 2 ** def.width - 1 : 2 ** def.width - 2;
    const back = raw + def.reference;
    const decoded = def.scale === 0 ? back : def.scale > 0 ? back / 10 ** def.scale : back * 10 ** -def.scale;
    if (!Number.isFinite(value) || raw < 0 || raw > max || decoded !== value) {
      throw new InvalidArgumentError(
        field,
        `${value} cannot be stored exactly in ${def.name} (scale ${def.scale}, reference ${def.reference}, ${def.width} bits)`,
      );
    }
    this.w.writeUint(def.width, raw);
  }

  text(code: number, value: string, field: string): void {
    const def = this.tables.b.get(code);
    if (def === undefined) throw new Error(`table B has no ${code}`);
    const n = def.width / 8;
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
  const dw = new DataWriter(tables, payloadTotal + 1024 + volume.sweeps.length * 64);

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

  // Section 4 holds the data rounded up to an even number of bytes, like the RMA files.
  let dataBytes = Math.ceil(dw.w.pos / 8);
  if ((4 + dataBytes) % 2 === 1) dataBytes++;
  const sec4Len = 4 + dataBytes;
  if (sec4Len >= 2 ** 24)
    throw new InvalidArgumentError('volume', `section 4 would be ${sec4Len} bytes (max 16777215)`);
  const sec1Len = 22;
  const sec3Len = 7 + 2 * RMA_DESCRIPTORS.length + 1; // + 1 pad byte, as in the RMA files
  const total = 8 + sec1Len + sec3Len + sec4Len + 4;
  if (total >= 2 ** 24)
    throw new InvalidArgumentError('volume', `message would be ${total} bytes (max 16777215)`);

  const h = new BitWriter(64);
  // Section 0
  h.writeText(4, 'BUFR');
  h.writeUint(24, total);
  h.writeUint(8, 4);
  // Section 1 (edition 4)
  const t = volume.time;
  h.writeUint(24, sec1Len);
  h.writeUint(8, 0); // master table
  h.writeUint(16, CENTRE);
  h.writeUint(16, 0); // sub-centre
  h.writeUint(8, 0); // update sequence
  h.writeUint(8, 0); // flags: no section 2
  h.writeUint(8, DATA_CATEGORY_RADAR);
  h.writeUint(8, options.internationalSubCategory ?? 2);
  h.writeUint(8, 0); // local sub-category
  h.writeUint(8, MASTER_TABLE_VERSION);
  h.writeUint(8, localTableVersion);
  h.writeUint(16, t.getUTCFullYear());
  h.writeUint(8, t.getUTCMonth() + 1);
  h.writeUint(8, t.getUTCDate());
  h.writeUint(8, t.getUTCHours());
  h.writeUint(8, t.getUTCMinutes());
  h.writeUint(8, t.getUTCSeconds());
  // Section 3
  h.writeUint(24, sec3Len);
  h.writeUint(8, 0);
  h.writeUint(16, 1); // one subset
  h.writeUint(8, 0x80); // observed, not compressed
  for (const d of RMA_DESCRIPTORS) h.writeUint(16, descriptorToWire(d));
  h.writeUint(8, 0);
  // Section 4 header
  h.writeUint(24, sec4Len);
  h.writeUint(8, 0);
  const head = h.finish();

  const out = new Uint8Array(total);
  out.set(head, 0);
  out.set(dw.w.finish(dataBytes), head.length);
  out.set([0x37, 0x37, 0x37, 0x37], total - 4);
  return out;
}
