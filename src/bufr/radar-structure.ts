/**
 * Reads the RMA / ODIM-like radar structure out of a decoded message: station identifiers
 * (3 21 204), WMO position and time (3 01 031) and the sweeps (3 21 203), each with its
 * compressed payload bytes (3 21 206) concatenated but not yet inflated.
 *
 * Each expected element is checked by descriptor, so a message with another structure is a
 * `BufrFormatError` at the bit offset of the first item that does not fit.
 */

import { BufrFormatError, BufrUnsupportedError } from '../errors.js';
import { copyByteRun, type BufrMessage, type BytesItem, type DataItem } from './decoder.js';
import { formatDescriptor } from './descriptors.js';

/** Element descriptors of the structure, FXXYYY. */
export const D = {
  factor8: 31001,
  factor16: 31002,
  stationIdType: 1192,
  stationId: 1193,
  wmoBlock: 1001,
  wmoStation: 1002,
  stationType: 2001,
  year: 4001,
  month: 4002,
  day: 4003,
  hour: 4004,
  minute: 4005,
  second: 4006,
  latitude: 5001,
  longitude: 6001,
  height: 7001,
  productType: 30196,
  elevation: 2135,
  ngates: 30194,
  gateSize: 21201,
  gateOffset: 21203,
  nrays: 30195,
  azimuth: 2134,
  compression: 30197,
  payloadByte: 30198,
} as const;

/** The unexpanded descriptors of an RMA volume: 3 21 204, 3 01 031, 3 21 203. */
export const RMA_DESCRIPTORS: readonly number[] = [321204, 301031, 321203];

export interface RawParameter {
  momentCode: number;
  compressionMethod: number;
  /** Chunk lengths as stored. */
  chunkLengths: number[];
  /** The chunks concatenated: one zlib stream for method 0. */
  payload: Uint8Array;
  /** Bit offset of the 3 21 206 block (compression method field). */
  bitOffset: number;
}

export interface RawSweep {
  index: number;
  startTime: Date;
  endTime: Date;
  productType: number;
  elevation: number;
  ngates: number;
  gateSize: number;
  firstGateOffset: number;
  nrays: number;
  firstAzimuth: number;
  parameters: RawParameter[];
  bitOffset: number;
}

export interface RawVolume {
  stationIdType: string;
  stationId: string;
  wmoBlock: number;
  wmoStation: number;
  stationType: number;
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  latitude: number;
  longitude: number;
  height: number;
  sweeps: RawSweep[];
}

/** Strips the trailing NULs and spaces RMA station strings are padded with. */
export function trimStation(s: string): string {
  return s.replace(/[\0 ]+$/, '');
}

class Cursor {
  private i = 0;
  constructor(
    private readonly items: readonly DataItem[],
    private readonly file: string,
    private readonly endBit: number,
  ) {}

  get bitOffset(): number {
    return this.items[this.i]?.bitOffset ?? this.endBit;
  }

  fail(detail: string, descriptor?: number, bitOffset = this.bitOffset): BufrFormatError {
    return new BufrFormatError(detail, {
      file: this.file,
      section: 4,
      bitOffset,
      descriptor: descriptor === undefined ? undefined : formatDescriptor(descriptor),
    });
  }

  private next(code: number): DataItem {
    const item = this.items[this.i];
    if (item === undefined) throw this.fail(`expected ${formatDescriptor(code)} but the data ended`, code);
    if (item.descriptor !== code) {
      throw this.fail(`expected ${formatDescriptor(code)}, found ${formatDescriptor(item.descriptor)}`, code);
    }
    this.i++;
    return item;
  }

  number(code: number): number {
    const at = this.bitOffset;
    const item = this.next(code);
    if (item.kind !== 'value' || typeof item.value !== 'number') {
      throw this.fail('missing or non-numeric value', code, at);
    }
    return item.value;
  }

  text(code: number): string {
    const item = this.next(code);
    if (item.kind !== 'value') throw this.fail('expected text', code);
    return typeof item.value === 'string' ? item.value : '';
  }

  /** The replicated byte run of `n` bytes that comes next (`null` for n = 0). */
  bytes(code: number, n: number): BytesItem | null {
    if (n === 0) return null;
    const item = this.next(code);
    if (item.kind !== 'bytes' || item.length !== n) throw this.fail(`expected a run of ${n} bytes`, code);
    return item;
  }

  done(): boolean {
    return this.i >= this.items.length;
  }
}

/** A UTC date from its parts, or `null` when a part is out of range (no silent roll-over). */
export function utcDate(y: number, mo: number, d: number, h: number, mi: number, s: number): Date | null {
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  t.setUTCFullYear(y); // Date.UTC maps years 0-99 to 1900-1999
  if (t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return null;
  return t;
}

/** Reads 3 01 011 + 3 01 013 (date and time with seconds). */
function readTime(c: Cursor): Date {
  const at = c.bitOffset;
  const y = c.number(D.year);
  const mo = c.number(D.month);
  const d = c.number(D.day);
  const h = c.number(D.hour);
  const mi = c.number(D.minute);
  const s = c.number(D.second);
  const t = utcDate(y, mo, d, h, mi, s);
  if (t === null) throw c.fail(`invalid date/time ${y}-${mo}-${d} ${h}:${mi}:${s}`, D.year, at);
  return t;
}

/**
 * Gathers a sweep's chunks into one buffer: one allocation (not zero-filled: every byte is
 * written) and one shifted copy straight from the message when runs were deferred.
 */
function gather(
  message: Uint8Array | undefined,
  runs: readonly BytesItem[],
  total: number,
  file: string,
): Uint8Array {
  if (runs.length === 1 && runs[0]?.bytes != null) return runs[0].bytes;
  const out = Buffer.allocUnsafe(total);
  let o = 0;
  for (const run of runs) {
    if (run.bytes !== null) out.set(run.bytes, o);
    else if (message !== undefined) copyByteRun(message, run, out, o, file);
    else throw new Error('byte runs were deferred but the message bytes were not given');
    o += run.length;
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Walks the decoded items of an RMA volume message. Pass the message bytes when it was decoded
 * with `deferByteRuns`.
 */
export function readRadarStructure(msg: BufrMessage, message?: Uint8Array): RawVolume {
  const file = msg.file;
  if (msg.subsets.length !== 1) {
    throw new BufrFormatError(`a radar volume has 1 subset, found ${msg.subsets.length}`, {
      file,
      section: 3,
    });
  }
  const l = msg.sectionLengths;
  const endBit = (l['0'] + l['1'] + l['2'] + l['3'] + 4) * 8 + msg.dataBitsUsed;
  const c = new Cursor(msg.subsets[0] as DataItem[], file, endBit);

  // 3 21 204: station identifiers, replicated (factor is 1 in real files; keep the first).
  const nIds = c.number(D.factor8);
  let stationIdType = '';
  let stationId = '';
  for (let k = 0; k < nIds; k++) {
    const t = trimStation(c.text(D.stationIdType));
    const id = trimStation(c.text(D.stationId));
    if (k === 0) {
      stationIdType = t;
      stationId = id;
    }
  }

  // 3 01 031: WMO block/station, type, date, time (no seconds), position.
  const wmoBlock = c.number(D.wmoBlock);
  const wmoStation = c.number(D.wmoStation);
  const stationType = c.number(D.stationType);
  const year = c.number(D.year);
  const month = c.number(D.month);
  const day = c.number(D.day);
  const hour = c.number(D.hour);
  const minute = c.number(D.minute);
  const latitude = c.number(D.latitude);
  const longitude = c.number(D.longitude);
  const height = c.number(D.height);

  // 3 21 203: the sweeps.
  const nsweeps = c.number(D.factor8);
  const sweeps: RawSweep[] = [];
  for (let index = 0; index < nsweeps; index++) {
    const bitOffset = c.bitOffset;
    // 3 21 205 = 1 02 002: start then end time.
    const startTime = readTime(c);
    const endTime = readTime(c);
    const productType = c.number(D.productType);
    const elevation = c.number(D.elevation);
    const ngates = c.number(D.ngates);
    const gateSize = c.number(D.gateSize);
    const firstGateOffset = c.number(D.gateOffset);
    const nrays = c.number(D.nrays);
    const firstAzimuth = c.number(D.azimuth);
    const nparams = c.number(D.factor8);
    const parameters: RawParameter[] = [];
    for (let p = 0; p < nparams; p++) {
      const momentCode = c.number(D.productType);
      // 3 21 206: compression method, chunks (1 03 000 + 0 31 002), per chunk a byte run.
      const at = c.bitOffset;
      const compressionMethod = c.number(D.compression);
      const nchunks = c.number(D.factor16);
      const runs: BytesItem[] = [];
      const chunkLengths: number[] = [];
      let total = 0;
      for (let k = 0; k < nchunks; k++) {
        const len = c.number(D.factor16);
        chunkLengths.push(len);
        const run = c.bytes(D.payloadByte, len);
        if (run !== null) runs.push(run);
        total += len;
      }
      const payload = gather(message, runs, total, file);
      parameters.push({ momentCode, compressionMethod, chunkLengths, payload, bitOffset: at });
    }
    if (nparams === 0) throw c.fail(`sweep ${index} has no parameter`, D.factor8);
    sweeps.push({
      index,
      startTime,
      endTime,
      productType,
      elevation,
      ngates,
      gateSize,
      firstGateOffset,
      nrays,
      firstAzimuth,
      parameters,
      bitOffset,
    });
  }
  if (!c.done()) throw c.fail('unexpected data after the last sweep');
  for (const p of sweeps.flatMap((s) => s.parameters)) {
    if (p.compressionMethod !== 0) {
      throw new BufrUnsupportedError(
        formatDescriptor(D.compression),
        `compression method ${p.compressionMethod} (only 0 = zlib)`,
        file,
      );
    }
  }
  return {
    stationIdType,
    stationId,
    wmoBlock,
    wmoStation,
    stationType,
    year,
    month,
    day,
    hour,
    minute,
    latitude,
    longitude,
    height,
    sweeps,
  };
}
