import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

/** Received bytes reach the file in blocks of about this size. */
const WRITE_BLOCK_BYTES = 512 * 1024;

/**
 * The data socket's destination: writes into an open `.part` through its descriptor, in blocks.
 *
 * One stream between the socket and the file, instead of a gathering Transform piped into an
 * `fs.WriteStream` (two more streams per file, and their pipes, were a visible share of a
 * loopback mirror's CPU, docs/PERFORMANCE.md). A data socket hands over whatever arrived since
 * the last read: 64 KiB on loopback, a few KiB on a paced WAN link. Chunks are gathered into
 * WRITE_BLOCK_BYTES blocks written with one `writev` (no copy): one `write` per chunk was the
 * largest CPU cost of a WAN mirror, and each write is a trip through libuv's thread pool, which
 * the fdatasyncs of earlier files also use.
 *
 * The descriptor stays open when the stream finishes: the caller fdatasyncs and closes it
 * (download.ts commitPart), so making the file durable costs no second `open`. Bytes gathered but
 * not yet written when the transfer fails are dropped: the `.part` is then shorter, and a resume
 * starts that much earlier.
 */
export class FileSink extends Writable {
  readonly #handle: FileHandle;
  #position: number;
  #chunks: Buffer[] = [];
  #gathered = 0;
  #written = 0;
  /** The write running now: the descriptor must outlive it (see _destroy). */
  #inflight: Promise<void> | undefined;

  /** `position`: where the first byte goes (the size of a resumed `.part`). */
  constructor(handle: FileHandle, position: number) {
    super({ highWaterMark: WRITE_BLOCK_BYTES });
    this.#handle = handle;
    this.#position = position;
  }

  /** Bytes written to the file so far by this sink. */
  get bytesWritten(): number {
    return this.#written;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this._writev([{ chunk }], callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    for (const { chunk } of chunks) {
      this.#chunks.push(chunk);
      this.#gathered += chunk.length;
    }
    // gathered as views (writev: no copy), so even loopback's 64 KiB reads wait for a block
    if (this.#gathered >= WRITE_BLOCK_BYTES) this.#flush(callback);
    else callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.#gathered > 0) this.#flush(callback);
    else callback();
  }

  #flush(callback: (error?: Error | null) => void): void {
    const buffers = this.#chunks;
    this.#chunks = [];
    this.#gathered = 0;
    const write = this.#writeAll(buffers);
    this.#inflight = write;
    write.then(
      () => callback(),
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
    );
  }

  /** Destroyed mid-write (a failed transfer): 'close' waits until the write has let go of the fd. */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const inflight = this.#inflight ?? Promise.resolve();
    inflight.then(
      () => callback(error),
      () => callback(error),
    );
  }

  /** A regular file takes a whole `writev` unless the disk fills; a short one is continued. */
  async #writeAll(buffers: Buffer[]): Promise<void> {
    let rest = buffers;
    while (rest.length > 0) {
      const { bytesWritten } = await this.#handle.writev(rest, this.#position);
      if (bytesWritten === 0) throw Object.assign(new Error('the file took no bytes'), { code: 'EIO' });
      this.#position += bytesWritten;
      this.#written += bytesWritten;
      rest = skipBytes(rest, bytesWritten);
    }
  }
}

/** `buffers` without their first `n` bytes (views, no copy). */
function skipBytes(buffers: Buffer[], n: number): Buffer[] {
  let left = n;
  let i = 0;
  while (i < buffers.length && left >= (buffers[i] as Buffer).length) left -= (buffers[i++] as Buffer).length;
  const rest = buffers.slice(i);
  if (left > 0 && rest.length > 0) rest[0] = (rest[0] as Buffer).subarray(left);
  return rest;
}
