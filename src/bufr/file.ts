/**
 * BUFR files: every message of a file, in order. Real files carry more than one message, GTS
 * bulletin headers (`\x01\r\r\n052\r\r\nISMD01 OKPR 211200\r\r\n`) and padding between
 * messages; each message is found by its "BUFR" start and checked against its declared length
 * and its "7777" end. Every message gets its own result: a decode, or the typed error that
 * message raised, so one bad message never hides the others.
 */

import { open, readFile } from 'node:fs/promises';
import { BufrFormatError, BufrUnsupportedError } from '../errors.js';
import { decodeBufr, type BufrMessage, type DecodeBufrOptions } from './decoder.js';

/** One message found in a file, before decoding. */
export interface BufrMessageSlice {
  /** 0-based position of the message in the file. */
  index: number;
  /** Byte offset of "BUFR" in the file. */
  offset: number;
  /** The message bytes (declared length, or up to the next "BUFR" when the length lies). */
  bytes: Uint8Array;
  /** Why the message cannot be cut out as declared, or `null` when it can. */
  problem: string | null;
}

/** One message of a file: where it is and either its decode or its error. */
export type BufrFileEntry =
  | { index: number; offset: number; length: number; ok: true; message: BufrMessage }
  | {
      index: number;
      offset: number;
      length: number;
      ok: false;
      error: BufrFormatError | BufrUnsupportedError;
    };

const B = 0x42;
const U = 0x55;
const F = 0x46;
const R = 0x52;
const SEVEN = 0x37;

function findBufr(bytes: Uint8Array, from: number): number {
  for (let i = bytes.indexOf(B, from); i >= 0 && i + 4 <= bytes.length; i = bytes.indexOf(B, i + 1)) {
    if (bytes[i + 1] === U && bytes[i + 2] === F && bytes[i + 3] === R) return i;
  }
  return -1;
}

function endsWith7777(bytes: Uint8Array, end: number): boolean {
  return (
    end >= 4 &&
    end <= bytes.length &&
    bytes[end - 1] === SEVEN &&
    bytes[end - 2] === SEVEN &&
    bytes[end - 3] === SEVEN &&
    bytes[end - 4] === SEVEN
  );
}

/**
 * Where the message starting at `start` ends and what is wrong with it. Editions 0 and 1 have no
 * total length in section 0; their extent is up to the next "BUFR".
 */
function cut(bytes: Uint8Array, start: number): { end: number; problem: string | null } {
  const untilNext = (): number => {
    const next = findBufr(bytes, start + 4);
    return next < 0 ? bytes.length : next;
  };
  if (start + 8 > bytes.length) return { end: bytes.length, problem: 'file ends inside section 0' };
  const edition = bytes[start + 7] as number;
  const length =
    ((bytes[start + 4] as number) << 16) | ((bytes[start + 5] as number) << 8) | (bytes[start + 6] as number);
  if (edition < 2) return { end: untilNext(), problem: `edition ${edition} has no total length` };
  if (start + length > bytes.length) {
    return {
      end: untilNext(),
      problem: `declared length ${length} runs past the end of the file (${bytes.length - start} bytes left)`,
    };
  }
  if (!endsWith7777(bytes, start + length)) {
    return { end: untilNext(), problem: `no "7777" at the declared end (byte ${start + length})` };
  }
  return { end: start + length, problem: null };
}

/**
 * The messages of a file held in memory, in order. Bytes outside messages (bulletin headers,
 * padding) are skipped.
 */
export function* splitBufrMessages(bytes: Uint8Array): Generator<BufrMessageSlice> {
  let index = 0;
  for (let start = findBufr(bytes, 0); start >= 0;) {
    const { end, problem } = cut(bytes, start);
    yield { index: index++, offset: start, bytes: bytes.subarray(start, end), problem };
    start = findBufr(bytes, Math.max(end, start + 4));
  }
}

function label(file: string, slice: BufrMessageSlice): string {
  return `${file} message ${slice.index + 1} at byte ${slice.offset}`;
}

/** Decodes one slice; the error, if any, is returned, never thrown. */
export function decodeSlice(
  slice: BufrMessageSlice,
  file: string,
  options: Omit<DecodeBufrOptions, 'file'>,
): BufrFileEntry {
  const where = { index: slice.index, offset: slice.offset, length: slice.bytes.length };
  const name = label(file, slice);
  if (slice.problem !== null) {
    return { ...where, ok: false, error: new BufrFormatError(slice.problem, { file: name, section: 0 }) };
  }
  try {
    return { ...where, ok: true, message: decodeBufr(slice.bytes, { ...options, file: name }) };
  } catch (e) {
    if (e instanceof BufrFormatError || e instanceof BufrUnsupportedError)
      return { ...where, ok: false, error: e };
    throw e;
  }
}

function noMessage(file: string): BufrFormatError {
  return new BufrFormatError('no "BUFR" message in the file', { file, section: 0 });
}

/**
 * Decodes every message of a BUFR file (a path, or the file's bytes).
 *
 * @returns one entry per message, in file order: `{ ok: true, message }` or `{ ok: false, error }`.
 * @throws BufrFormatError when the file holds no "BUFR" at all; file-system errors as they come.
 */
export async function decodeBufrFile(
  pathOrBytes: string | Uint8Array,
  options: DecodeBufrOptions = {},
): Promise<BufrFileEntry[]> {
  const file = options.file ?? (typeof pathOrBytes === 'string' ? pathOrBytes : '<bytes>');
  // A plain Uint8Array view of readFile's Buffer (its own memory, not pooled): no copy.
  const read = typeof pathOrBytes === 'string' ? await readFile(pathOrBytes) : null;
  const bytes =
    read === null ? (pathOrBytes as Uint8Array) : new Uint8Array(read.buffer, read.byteOffset, read.length);
  const out: BufrFileEntry[] = [];
  for (const slice of splitBufrMessages(bytes)) out.push(decodeSlice(slice, file, options));
  if (out.length === 0) throw noMessage(file);
  return out;
}

/** How much of a large file is read at a time by {@link iterateBufrFile}. */
const CHUNK_BYTES = 1 << 20;

/**
 * Decodes the messages of a file one at a time, reading it in chunks, so memory stays at about
 * one message however large the file is. Same entries as {@link decodeBufrFile}.
 */
export async function* iterateBufrFile(
  path: string,
  options: DecodeBufrOptions & { signal?: AbortSignal } = {},
): AsyncGenerator<BufrFileEntry> {
  const file = options.file ?? path;
  const handle = await open(path, 'r');
  try {
    let buffer: Uint8Array = new Uint8Array(0);
    /** File offset of buffer[0]. */
    let base = 0;
    let eof = false;
    let index = 0;
    const more = async (): Promise<void> => {
      const chunk = new Uint8Array(CHUNK_BYTES);
      const { bytesRead } = await handle.read(chunk, 0, CHUNK_BYTES, base + buffer.length);
      if (bytesRead === 0) {
        eof = true;
        return;
      }
      const joined = new Uint8Array(buffer.length + bytesRead);
      joined.set(buffer);
      joined.set(chunk.subarray(0, bytesRead), buffer.length);
      buffer = joined;
    };
    const drop = (n: number): void => {
      buffer = buffer.subarray(n); // no copy: the next read joins into a fresh buffer
      base += n;
    };
    for (;;) {
      options.signal?.throwIfAborted();
      let start = findBufr(buffer, 0);
      while (start < 0 && !eof) {
        // Keep the last 3 bytes: "BUFR" may straddle two chunks.
        drop(Math.max(0, buffer.length - 3));
        await more();
        start = findBufr(buffer, 0);
      }
      if (start < 0) break;
      drop(start);
      // Section 0 gives the length; read until the declared message (or the file) is in memory.
      while (buffer.length < 8 && !eof) await more();
      const declared =
        buffer.length >= 8
          ? ((buffer[4] as number) << 16) | ((buffer[5] as number) << 8) | (buffer[6] as number)
          : 0;
      while (buffer.length < declared && !eof) await more();
      let { end, problem } = cut(buffer, 0);
      // A message whose length lies runs to the next "BUFR"; make sure that one is in memory.
      while (problem !== null && end === buffer.length && !eof) {
        await more();
        ({ end, problem } = cut(buffer, 0));
      }
      const slice: BufrMessageSlice = { index: index++, offset: base, bytes: buffer.slice(0, end), problem };
      yield decodeSlice(slice, file, options);
      drop(Math.max(end, 4));
    }
    if (index === 0) throw noMessage(file);
  } finally {
    await handle.close();
  }
}
