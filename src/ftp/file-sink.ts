import type { FileHandle } from 'node:fs/promises';

/** Received bytes reach the file in blocks of about this size. */
const WRITE_BLOCK_BYTES = 1024 * 1024;
/** Gathered bytes (besides the write running) at which the data socket is asked to pause. */
const PAUSE_AT_BYTES = 2 * WRITE_BLOCK_BYTES;

/**
 * The data socket's destination: writes the chunks it is handed into an open `.part`, in blocks.
 *
 * Not a stream: the socket's `data` events call `push` directly. A Writable, its pipeline and
 * basic-ftp's per-transfer watchdog and progress timers were a visible share of a loopback
 * mirror's CPU per file (docs/PERFORMANCE.md, issue 15). A data socket hands over whatever
 * arrived since the last read: 64 KiB on loopback, a few KiB on a paced WAN link. Chunks are
 * gathered as views into WRITE_BLOCK_BYTES blocks written with one `writev` (no copy): one
 * `write` per chunk was the largest CPU cost of a WAN mirror, and each write is a trip through
 * libuv's thread pool, which the fdatasyncs of earlier files also use. A radar file (≈ 0.5 MB)
 * is one write.
 *
 * The descriptor stays open: the caller fdatasyncs and closes it (download.ts commitPart), so
 * making the file durable costs no second `open`. A failed transfer also calls `finish`: every
 * byte that arrived is in the `.part`, and a resume (REST) continues after it.
 */
export class FileSink {
  readonly #handle: FileHandle;
  readonly #onError: (err: Error) => void;
  #position: number;
  #chunks: Buffer[] = [];
  #gathered = 0;
  #written = 0;
  /** The write running now: the descriptor must outlive it (see `settled`). */
  #inflight: Promise<void> | undefined;
  #error: Error | undefined;
  #paused = false;
  /** Called when a paused source may send again (see `push`). */
  onDrain: (() => void) | undefined;

  /**
   * `position`: where the first byte goes (the size of a resumed `.part`). `onError`: a write
   * failed (ENOSPC...); the transfer must end at once, later chunks are dropped.
   */
  constructor(handle: FileHandle, position: number, onError: (err: Error) => void) {
    this.#handle = handle;
    this.#position = position;
    this.#onError = onError;
  }

  /** Bytes written to the file so far by this sink. */
  get bytesWritten(): number {
    return this.#written;
  }

  /**
   * Takes one received chunk (kept as a view: the caller must not reuse it). False: pause the
   * source until `onDrain` is called (the disk is behind by PAUSE_AT_BYTES).
   */
  push(chunk: Buffer): boolean {
    if (this.#error !== undefined) return true;
    this.#chunks.push(chunk);
    this.#gathered += chunk.length;
    if (this.#inflight === undefined && this.#gathered >= WRITE_BLOCK_BYTES) this.#startWrite();
    if (this.#gathered < PAUSE_AT_BYTES) return true;
    this.#paused = true;
    return false;
  }

  /** Writes what is still gathered; resolves with the bytes written, rejects on a write error. */
  async finish(): Promise<number> {
    await this.#settled();
    if (this.#error === undefined && this.#gathered > 0) {
      this.#startWrite();
      await this.#settled();
    }
    if (this.#error !== undefined) throw this.#error;
    return this.#written;
  }

  /** Resolves once no write is running. */
  async #settled(): Promise<void> {
    while (this.#inflight !== undefined) await this.#inflight;
  }

  #startWrite(): void {
    const buffers = this.#chunks;
    this.#chunks = [];
    this.#gathered = 0;
    this.#inflight = this.#writeAll(buffers).then(
      () => this.#afterWrite(),
      (err: unknown) => {
        this.#error = err instanceof Error ? err : new Error(String(err));
        this.#chunks = [];
        this.#gathered = 0;
        this.#inflight = undefined;
        this.#onError(this.#error);
      },
    );
  }

  #afterWrite(): void {
    this.#inflight = undefined;
    if (this.#gathered >= WRITE_BLOCK_BYTES) this.#startWrite();
    if (this.#paused && this.#gathered < PAUSE_AT_BYTES) {
      this.#paused = false;
      this.onDrain?.();
    }
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
