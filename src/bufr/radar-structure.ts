/**
 * Reads the RMA / ODIM-like radar structure out of a decoded message: station identifiers
 * (3 21 204), WMO position and time (3 01 031) and the sweeps (3 21 203), each with its
 * compressed payload bytes (3 21 206) concatenated but not yet inflated. What comes in which
 * order is `RMA_VOLUME` (rma-structure.ts), which the encoder writes through too.
 *
 * Each expected element is checked by descriptor, so a message with another structure is a
 * `BufrFormatError` at the bit offset of the first item that does not fit.
 */

import { BufrFormatError, BufrUnsupportedError, InvalidArgumentError } from '../errors.js';
import { copyByteRun, type BufrMessage, type BytesItem, type DataItem } from './decoder.js';
import { formatDescriptor } from './descriptors.js';
import { RMA_VOLUME, type ElementGroup } from './rma-structure.js';
import { fixedOctets, SECTION_HEAD } from './section-layouts.js';

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

/** Reads the numbers of `group`, in order. */
function readNumbers<K extends string>(c: Cursor, group: ElementGroup<K>): Record<K, number> {
  // Every key of the group is set by the loop, so the record is complete when returned.
  const values = {} as Record<K, number>;
  for (const e of group) values[e.key] = c.number(e.code);
  return values;
}

/** Reads the strings of `group`, in order, without their padding. */
function readTexts<K extends string>(c: Cursor, group: ElementGroup<K>): Record<K, string> {
  const values = {} as Record<K, string>;
  for (const e of group) values[e.key] = trimStation(c.text(e.code));
  return values;
}

/** Reads a sweep's start or end time (3 01 011 + 3 01 013); an impossible date is an error. */
function readTime(c: Cursor): Date {
  const at = c.bitOffset;
  const group = RMA_VOLUME.sweeps.times;
  const { year, month, day, hour, minute, second } = readNumbers(c, group);
  const t = utcDate(year, month, day, hour, minute, second);
  if (t === null) {
    throw c.fail(`invalid date/time ${year}-${month}-${day} ${hour}:${minute}:${second}`, group[0]?.code, at);
  }
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
    else throw new InvalidArgumentError('message', `${file} was decoded with deferByteRuns: pass its bytes`);
    o += run.length;
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** 3 21 204: the station identifiers (the factor is 1 in real files; the first are kept). */
function readStationIds(c: Cursor): Record<'stationIdType' | 'stationId', string> {
  const { factor, each } = RMA_VOLUME.stationIds;
  const n = c.number(factor);
  let ids = { stationIdType: '', stationId: '' };
  for (let k = 0; k < n; k++) {
    const read = readTexts(c, each);
    if (k === 0) ids = read;
  }
  return ids;
}

/** One parameter of a sweep: moment code, then 3 21 206 (method, chunks of bytes). */
function readParameter(c: Cursor, message: Uint8Array | undefined, file: string): RawParameter {
  const { moment, method, chunks } = RMA_VOLUME.sweeps.parameters;
  const momentCode = c.number(moment.code);
  const bitOffset = c.bitOffset;
  const compressionMethod = c.number(method.code);
  const nchunks = c.number(chunks.factor);
  const runs: BytesItem[] = [];
  const chunkLengths: number[] = [];
  let total = 0;
  for (let k = 0; k < nchunks; k++) {
    const len = c.number(chunks.length);
    chunkLengths.push(len);
    const run = c.bytes(chunks.byte, len);
    if (run !== null) runs.push(run);
    total += len;
  }
  const payload = gather(message, runs, total, file);
  return { momentCode, compressionMethod, chunkLengths, payload, bitOffset };
}

/** One sweep of 3 21 203: start and end time, geometry, parameters. */
function readSweep(c: Cursor, index: number, message: Uint8Array | undefined, file: string): RawSweep {
  const { geometry, parameters: p } = RMA_VOLUME.sweeps;
  const bitOffset = c.bitOffset;
  const startTime = readTime(c);
  const endTime = readTime(c);
  const scan = readNumbers(c, geometry);
  const nparams = c.number(p.factor);
  const parameters: RawParameter[] = [];
  for (let k = 0; k < nparams; k++) parameters.push(readParameter(c, message, file));
  if (nparams === 0) throw c.fail(`sweep ${index} has no parameter`, p.factor);
  return { index, startTime, endTime, ...scan, parameters, bitOffset };
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
  // The data end where the decoder stopped: section 4's head, then the bits it used.
  const endBit = (l['0'] + l['1'] + l['2'] + l['3'] + fixedOctets(SECTION_HEAD)) * 8 + msg.dataBitsUsed;
  const c = new Cursor(msg.subsets[0] as DataItem[], file, endBit);

  const ids = readStationIds(c);
  const { identification, time, position } = RMA_VOLUME.station;
  const station = {
    ...readNumbers(c, identification),
    ...readNumbers(c, time),
    ...readNumbers(c, position),
  };
  const nsweeps = c.number(RMA_VOLUME.sweeps.factor);
  const sweeps: RawSweep[] = [];
  for (let index = 0; index < nsweeps; index++) sweeps.push(readSweep(c, index, message, file));
  if (!c.done()) throw c.fail('unexpected data after the last sweep');
  for (const p of sweeps.flatMap((s) => s.parameters)) {
    if (p.compressionMethod !== 0) {
      throw new BufrUnsupportedError(
        formatDescriptor(RMA_VOLUME.sweeps.parameters.method.code),
        `compression method ${p.compressionMethod} (only 0 = zlib)`,
        file,
      );
    }
  }
  return { ...ids, ...station, sweeps };
}
