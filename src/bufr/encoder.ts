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
import type { RadarSweep, RadarVolume } from '../radar/model.js';
import { DataWriter, utcParts } from './data-writer.js';
import { RMA_VOLUME } from './rma-structure.js';
import { writeMessage } from './section-writer.js';
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

function payloadBytes(values: Float64Array): Uint8Array {
  if (endianness() === 'LE') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat64(i * 8, v, true));
  return out;
}

/** The tables of centre 41 at `localTableVersion`; they must hold the payload byte element. */
function radarTables(localTableVersion: number): BufrTables {
  const tables = defaultTableProvider({
    masterTable: 0,
    masterTableVersion: MASTER_TABLE_VERSION,
    centre: CENTRE,
    subCentre: 0,
    localTableVersion,
  });
  if (tables === undefined || !tables.b.has(RMA_VOLUME.sweeps.parameters.chunks.byte)) {
    throw new InvalidArgumentError(
      'localTableVersion',
      `no centre-${CENTRE} local table version ${localTableVersion}`,
    );
  }
  return tables;
}

/** Each sweep's moments (main first, then additional) as zlib streams. */
function compressMoments(volume: RadarVolume, level: number): Uint8Array[][] {
  return volume.sweeps.map((s, i) => {
    const moments = [{ momentCode: s.momentCode, values: s.values }, ...s.additionalMoments];
    return moments.map((m, k) => {
      if (!(m.values instanceof Float64Array) || m.values.length !== s.nrays * s.ngates) {
        throw new InvalidArgumentError(
          `sweeps[${i}].${k === 0 ? 'values' : `additionalMoments[${k - 1}].values`}`,
          `must be a Float64Array of nrays x ngates = ${s.nrays * s.ngates} values`,
        );
      }
      return deflateSync(payloadBytes(m.values), { level });
    });
  });
}

/** 3 21 204 (one replication) and 3 01 031. */
function writeStation(dw: DataWriter, volume: RadarVolume): void {
  const { stationIds, station } = RMA_VOLUME;
  dw.num(stationIds.factor, 1, 'station identifiers');
  dw.texts(stationIds.each, volume, (key) => key);
  dw.numbers(station.identification, volume, (key) => key);
  dw.time(station.time, volume.time, 'time');
  dw.numbers(station.position, volume, (key) => key);
}

/** One sweep of 3 21 203; `payloads` are its moments' zlib streams, main moment first. */
function writeSweep(
  dw: DataWriter,
  s: RadarSweep,
  f: string,
  payloads: Uint8Array[],
  chunkSize: number,
): void {
  const { times, geometry, parameters } = RMA_VOLUME.sweeps;
  dw.time(times, s.startTime, `${f}.startTime`);
  dw.time(times, s.endTime, `${f}.endTime`);
  dw.numbers(geometry, s, (key) => `${f}.${key}`);
  const moments = [s.momentCode, ...s.additionalMoments.map((m) => m.momentCode)];
  dw.num(parameters.factor, moments.length, `${f}.additionalMoments.length`);
  moments.forEach((code, k) => {
    dw.num(parameters.moment.code, code, `${f}.momentCode`);
    if (s.compressionMethod !== 0)
      throw new InvalidArgumentError(`${f}.compressionMethod`, 'only 0 (zlib) is written');
    dw.num(parameters.method.code, 0, `${f}.compressionMethod`);
    writeChunks(dw, payloads[k] ?? new Uint8Array(0), chunkSize, f);
  });
}

/** 3 21 206's chunks: their count, then each chunk's length and bytes. */
function writeChunks(dw: DataWriter, payload: Uint8Array, chunkSize: number, f: string): void {
  const { chunks } = RMA_VOLUME.sweeps.parameters;
  const nchunks = Math.ceil(payload.length / chunkSize);
  dw.num(chunks.factor, nchunks, `${f} chunk count`);
  for (let c = 0; c < nchunks; c++) {
    const chunk = payload.subarray(c * chunkSize, Math.min(payload.length, (c + 1) * chunkSize));
    dw.num(chunks.length, chunk.length, `${f} chunk length`);
    dw.w.writeBytes(chunk);
  }
}

/** Writes a radar volume as one BUFR message (the bytes of a complete file). */
export function encodeRadarVolume(volume: RadarVolume, options: EncodeRadarVolumeOptions = {}): Uint8Array {
  const chunkSize = options.chunkSize ?? MAX_CHUNK;
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK) {
    throw new InvalidArgumentError('chunkSize', `${chunkSize} is not an integer in 1..${MAX_CHUNK}`);
  }
  const localTableVersion = options.localTableVersion ?? 2;
  const tables = radarTables(localTableVersion);
  // Compress first: the payload dominates the size and sets the buffer capacity.
  const compressed = compressMoments(volume, options.level ?? 6);
  const payloadTotal = compressed.flat().reduce((n, b) => n + b.length, 0);
  const dw = new DataWriter(
    tables,
    { option: 'localTableVersion', detail: `centre-${CENTRE} local table version ${localTableVersion}` },
    payloadTotal + 1024 + volume.sweeps.length * 64,
  );
  writeStation(dw, volume);
  dw.num(RMA_VOLUME.sweeps.factor, volume.sweeps.length, 'sweeps.length');
  volume.sweeps.forEach((s, i) => writeSweep(dw, s, `sweeps[${i}]`, compressed[i] ?? [], chunkSize));

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
      ...utcParts(volume.time),
    },
    // One subset of observed data, not compressed, as the RMA files.
    section3: { numberOfSubsets: 1, observed: true, compressed: false, descriptors: RMA_VOLUME.descriptors },
    data: dw.w.finish(),
  });
}
