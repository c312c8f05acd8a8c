/**
 * `readRadarVolume`: a radar BUFR file -> {@link RadarVolume}. The message is decoded once; each
 * sweep's payload is extracted in bulk by the decoder and inflated once with node:zlib, with the
 * output bounded by the declared `8 * nrays * ngates` bytes.
 */

import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import path from 'node:path';
import { inflate, inflateSync, type ZlibOptions } from 'node:zlib';
import { AbortedError, BufrFormatError } from '../errors.js';
import { parseRadarFileName } from '../radar/filename.js';
import {
  FILL,
  momentByCode,
  NO_DATA,
  ValueClass,
  type RadarMoment,
  type RadarSweep,
  type RadarVolume,
} from '../radar/model.js';
import { decodeBufr, type BufrMessage, type DecodeBufrOptions } from './decoder.js';
import { fieldBitOffset, fixedOctets, isEdition, SECTION0, SECTION1 } from './section-layouts.js';
import {
  readRadarStructure,
  utcDate,
  type RawParameter,
  type RawSweep,
  type RawVolume,
} from './radar-structure.js';

/** Options of {@link readRadarVolume} and {@link readRadarVolumeSync}. */
export interface ReadRadarVolumeOptions {
  /**
   * Name for error messages and the file-name metadata (strategy, volume number, field) when
   * reading bytes. When reading a path its base name is used.
   */
  fileName?: string;
  /**
   * How the no-data values appear in `values`:
   * - `'keep'`: exactly the inflated payload, bit for bit (-DBL_MAX, +DBL_MAX and NaN as stored);
   * - `'nan'`: -DBL_MAX (no data) and +DBL_MAX (fill) become NaN; use `mask` to keep the reason.
   * @default 'keep'
   */
  noData?: 'keep' | 'nan';
  /** Also return `mask` per sweep: a {@link ValueClass} per value. @default false */
  mask?: boolean;
  /** Tables for the decoder (see `decodeBufr`). @default built-in tables */
  tables?: DecodeBufrOptions['tables'];
  /** Aborts the async read (before reading, and between sweeps). */
  signal?: AbortSignal;
}

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

function fileLabel(pathOrBytes: string | Uint8Array, options: ReadRadarVolumeOptions): string {
  if (typeof pathOrBytes === 'string') return pathOrBytes;
  return options.fileName ?? '<bytes>';
}

function inflateOptions(expectedBytes: number): ZlibOptions {
  // maxOutputLength bounds the allocation by what the header declares (never by the stream);
  // one chunk of the right size avoids zlib's chunk list and final concatenation copy.
  return { maxOutputLength: Math.max(1, expectedBytes), chunkSize: Math.max(64, expectedBytes + 64) };
}

function inflateError(file: string, p: RawParameter, sweep: number, cause: unknown): BufrFormatError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new BufrFormatError(
    `sweep ${sweep}: zlib payload of ${p.payload.length} bytes does not inflate: ${detail}`,
    { file, section: 4, bitOffset: p.bitOffset, descriptor: '3 21 206' },
    { cause },
  );
}

/** Checks the inflated size and views it as float64 (little-endian, as written). */
function toFloat64(file: string, sw: RawSweep, p: RawParameter, out: Uint8Array): Float64Array {
  const expected = 8 * sw.nrays * sw.ngates;
  if (out.length !== expected) {
    throw new BufrFormatError(
      `sweep ${sw.index}: payload inflates to ${out.length} bytes, expected 8 x ${sw.nrays} rays x ${sw.ngates} gates = ${expected}`,
      { file, section: 4, bitOffset: p.bitOffset, descriptor: '3 21 206' },
    );
  }
  const n = expected / 8;
  // View the inflated bytes in place when zlib gave us a buffer of our own (large outputs);
  // small outputs live in Node's shared Buffer pool and are copied, so `values.buffer` never
  // exposes or pins unrelated memory.
  const own = out.byteOffset === 0 && out.buffer.byteLength - out.byteLength <= 64;
  if (LITTLE_ENDIAN_HOST && own) return new Float64Array(out.buffer, 0, n);
  const values = new Float64Array(n);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < n; i++) values[i] = view.getFloat64(i * 8, true);
  return values;
}

/**
 * Deflate cannot compress better than 1032:1, so a header asking for more output than that from
 * the bytes present is false; refusing it up front keeps allocations proportional to the file.
 */
const MAX_DEFLATE_RATIO = 1032;

function checkPlausible(file: string, sw: RawSweep, p: RawParameter): number {
  const expected = 8 * sw.nrays * sw.ngates;
  if (expected > MAX_DEFLATE_RATIO * p.payload.length + 1024) {
    throw new BufrFormatError(
      `sweep ${sw.index}: ${sw.nrays} rays x ${sw.ngates} gates need ${expected} bytes, more than a ${p.payload.length}-byte zlib stream can hold`,
      { file, section: 4, bitOffset: p.bitOffset, descriptor: '3 21 206' },
    );
  }
  return expected;
}

function inflateParamSync(file: string, sw: RawSweep, p: RawParameter): Float64Array {
  const expected = checkPlausible(file, sw, p);
  let out: Uint8Array;
  try {
    out = inflateSync(p.payload, inflateOptions(expected));
  } catch (e) {
    throw inflateError(file, p, sw.index, e);
  }
  return toFloat64(file, sw, p, out);
}

function inflateParamAsync(file: string, sw: RawSweep, p: RawParameter): Promise<Float64Array> {
  let expected: number;
  try {
    expected = checkPlausible(file, sw, p);
  } catch (e) {
    return Promise.reject(e as Error);
  }
  return new Promise((resolve, reject) => {
    inflate(p.payload, inflateOptions(expected), (err, out) => {
      if (err !== null) reject(inflateError(file, p, sw.index, err));
      else {
        try {
          resolve(toFloat64(file, sw, p, out));
        } catch (e) {
          reject(e as Error);
        }
      }
    });
  });
}

/** Builds the {@link ValueClass} mask for `values`. */
export function classifyValues(values: Float64Array): Uint8Array {
  const mask = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v === NO_DATA) mask[i] = ValueClass.noData;
    else if (v === FILL) mask[i] = ValueClass.fill;
    else if (v !== v) mask[i] = ValueClass.nan;
  }
  return mask;
}

/** Replaces -DBL_MAX and +DBL_MAX by NaN, in place. */
export function noDataToNaN(values: Float64Array): Float64Array {
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v === NO_DATA || v === FILL) values[i] = Number.NaN;
  }
  return values;
}

function present(
  values: Float64Array,
  options: ReadRadarVolumeOptions,
): { values: Float64Array; mask?: Uint8Array } {
  const mask = options.mask === true ? classifyValues(values) : undefined;
  if (options.noData === 'nan') noDataToNaN(values);
  return mask === undefined ? { values } : { values, mask };
}

function assemble(
  file: string,
  raw: RawVolume,
  msg: BufrMessage,
  valuesPerSweep: Float64Array[][],
  options: ReadRadarVolumeOptions,
): RadarVolume {
  const baseName = typeof file === 'string' && file !== '<bytes>' ? path.basename(file) : null;
  const parsed = baseName === null ? null : parseRadarFileName(baseName);
  const s1 = msg.section1;
  const time = utcDate(s1.year, s1.month, s1.day, s1.hour, s1.minute, s1.second);
  if (time === null) {
    const layout = SECTION1[isEdition(msg.edition) ? msg.edition : 4];
    throw new BufrFormatError(
      `invalid section-1 date ${s1.year}-${s1.month}-${s1.day} ${s1.hour}:${s1.minute}:${s1.second}`,
      { file, section: 1, bitOffset: fieldBitOffset(layout, 'year', fixedOctets(SECTION0)) },
    );
  }
  const sweeps: RadarSweep[] = raw.sweeps.map((sw, i) => {
    const vals = valuesPerSweep[i] as Float64Array[];
    const [first, ...rest] = sw.parameters.map((p, k) => ({
      p,
      ...present(vals[k] as Float64Array, options),
    }));
    const head = first as { p: RawParameter; values: Float64Array; mask?: Uint8Array };
    const additionalMoments: RadarMoment[] = rest.map((m) =>
      m.mask === undefined
        ? { momentCode: m.p.momentCode, values: m.values }
        : { momentCode: m.p.momentCode, values: m.values, mask: m.mask },
    );
    const sweep: RadarSweep = {
      index: sw.index,
      elevation: sw.elevation,
      nrays: sw.nrays,
      ngates: sw.ngates,
      gateSize: sw.gateSize,
      firstGateOffset: sw.firstGateOffset,
      startTime: sw.startTime,
      endTime: sw.endTime,
      firstAzimuth: sw.firstAzimuth,
      productType: sw.productType,
      momentCode: head.p.momentCode,
      compressionMethod: head.p.compressionMethod,
      values: head.values,
      additionalMoments,
    };
    if (head.mask !== undefined) sweep.mask = head.mask;
    return sweep;
  });
  const fromIds = raw.stationIdType + raw.stationId;
  const code = raw.sweeps[0]?.parameters[0]?.momentCode;
  const field = parsed?.field ?? (code === undefined ? undefined : momentByCode(code)?.name) ?? 'UNKNOWN';
  return {
    radar: fromIds !== '' ? fromIds : (parsed?.radar ?? ''),
    stationIdType: raw.stationIdType,
    stationId: raw.stationId,
    wmoBlock: raw.wmoBlock,
    wmoStation: raw.wmoStation,
    stationType: raw.stationType,
    latitude: raw.latitude,
    longitude: raw.longitude,
    height: raw.height,
    time,
    field,
    strategy: parsed?.strategy ?? null,
    volumeNumber: parsed?.volume ?? null,
    fileName: baseName,
    sweeps,
  };
}

/** Decodes the message and the radar structure, without inflating. */
export function readRawVolume(
  bytes: Uint8Array,
  file: string,
  options: Pick<ReadRadarVolumeOptions, 'tables'> = {},
): { msg: BufrMessage; raw: RawVolume } {
  const opts: DecodeBufrOptions = { file, deferByteRuns: true };
  if (options.tables !== undefined) opts.tables = options.tables;
  const msg = decodeBufr(bytes, opts);
  return { msg, raw: readRadarStructure(msg, bytes) };
}

/**
 * Reads a radar volume synchronously from a path or from the bytes of a file.
 *
 * @throws BufrFormatError naming the file, section and bit offset for any malformed input,
 *   including a payload that does not inflate to exactly 8 x nrays x ngates bytes.
 */
export function readRadarVolumeSync(
  pathOrBytes: string | Uint8Array,
  options: ReadRadarVolumeOptions = {},
): RadarVolume {
  const file = fileLabel(pathOrBytes, options);
  const bytes = typeof pathOrBytes === 'string' ? readFileSync(pathOrBytes) : pathOrBytes;
  const { msg, raw } = readRawVolume(bytes, file, options);
  const values = raw.sweeps.map((sw) => sw.parameters.map((p) => inflateParamSync(file, sw, p)));
  return assemble(file, raw, msg, values, options);
}

/**
 * Reads a radar volume from a path or from the bytes of a file. Sweeps are inflated on the libuv
 * thread pool, so the event loop stays free during the heavy part.
 *
 * @example
 * const v = await readRadarVolume('RMA11_0315_01_DBZH_20251020T152828Z.BUFR', { noData: 'nan' });
 * console.log(v.radar, v.sweeps.map((s) => s.elevation));
 */
export async function readRadarVolume(
  pathOrBytes: string | Uint8Array,
  options: ReadRadarVolumeOptions = {},
): Promise<RadarVolume> {
  const signal = options.signal;
  const check = (): void => {
    if (signal?.aborted === true)
      throw new AbortedError(`reading ${fileLabel(pathOrBytes, options)}`, { cause: signal.reason });
  };
  check();
  const file = fileLabel(pathOrBytes, options);
  const bytes =
    typeof pathOrBytes === 'string'
      ? await readFile(pathOrBytes, signal === undefined ? {} : { signal }).catch((e: unknown) => {
          check();
          throw e;
        })
      : pathOrBytes;
  check();
  const { msg, raw } = readRawVolume(bytes, file, options);
  const values = await Promise.all(
    raw.sweeps.map((sw) => Promise.all(sw.parameters.map((p) => inflateParamAsync(file, sw, p)))),
  );
  check();
  return assemble(file, raw, msg, values, options);
}
