import type { ReadTarget } from './data-socket.js';
import type { WritableFile } from './part-file.js';

/** Received bytes reach the file in blocks of about this size. */
const WRITE_BLOCK_BYTES = 1024 * 1024;
/** Gathered bytes (besides the write running) at which the data socket is asked to pause. */
const PAUSE_AT_BYTES = 2 * WRITE_BLOCK_BYTES;
/** Written blocks kept for the next transfers' reads (process-wide, at most this many MB). */
const SPARE_BLOCKS = 8;
const spareBlocks: Buffer[] = [];

function takeBlock(): Buffer {
  return spareBlocks.pop() ?? Buffer.allocUnsafeSlow(WRITE_BLOCK_BYTES);
}

function giveBack(blocks: Buffer[]): void {
  for (const b of blocks) if (spareBlocks.length < SPARE_BLOCKS) spareBlocks.push(b);
}

/**
 * The data socket's destination: writes the bytes it is handed into an open `.part`, in blocks.
 *
 * Not a stream. Two ways in: a plain data socket made by data-socket.ts reads straight into the
 * sink's own 1 MB blocks (`readBuffer`/`didRead`: one read takes whatever the kernel holds, up to
 * the block's free space, instead of 64 KiB into a fresh buffer), and blocks are reused across
 * transfers, so a mirror allocates (and page-faults, and garbage-collects) almost nothing per
 * file. Any other socket (TLS, basic-ftp's own) hands its chunks to `push`; they are kept as
 * views. A Writable, its pipeline and basic-ftp's per-transfer watchdog and progress timers were
 * a visible share of a loopback mirror's CPU per file (docs/PERFORMANCE.md, issue 15). Gathered
 * bytes are written with one `writev` per WRITE_BLOCK_BYTES (no copy): each write is a trip
 * through libuv's thread pool, which the fdatasyncs of earlier files also use. A radar file
 * (≈ 0.5 MB) is one write.
 *
 * The descriptor stays open: the caller fdatasyncs and closes it (download.ts commitPart), so
 * making the file durable costs no second `open`. A failed transfer also calls `finish`: every
 * byte that arrived is in the `.part`, and a resume (REST) continues after it.
 */
export class FileSink implements ReadTarget {
  readonly #handle: WritableFile;
  readonly #onError: (err: Error) => void;
  #position: number;
  #chunks: Buffer[] = [];
  #gathered = 0;
  #written = 0;
  /** The write running now: the descriptor must outlive it (see `settled`). */
  #inflight: Promise<void> | undefined;
  #error: Error | undefined;
  #paused = false;
  #received = 0;
  /** The block direct reads fill now, and how much of it is filled. */
  #block: Buffer | undefined;
  #blockUsed = 0;
  /** Blocks whose bytes are all in #chunks: free again once the write that takes them is done. */
  #fullBlocks: Buffer[] = [];
  /** Called when a paused source may send again (see `push`). */
  onDrain: (() => void) | undefined;

  /**
   * `position`: where the first byte goes (the size of a resumed `.part`). `onError`: a write
   * failed (ENOSPC...); the transfer must end at once, later chunks are dropped.
   */
  constructor(handle: WritableFile, position: number, onError: (err: Error) => void) {
    this.#handle = handle;
    this.#position = position;
    this.#onError = onError;
  }

  /** Bytes written to the file so far by this sink. */
  get bytesWritten(): number {
    return this.#written;
  }

  /** Bytes handed to this sink so far (written or still gathered). */
  get bytesReceived(): number {
    return this.#received;
  }

  /** Where the next direct read goes: the free end of the current block (ReadTarget). */
  readBuffer(): Buffer {
    if (this.#block === undefined || this.#blockUsed === this.#block.length) {
      this.#block = takeBlock();
      this.#blockUsed = 0;
    }
    return this.#block.subarray(this.#blockUsed);
  }

  /** `n` bytes were read into the buffer `readBuffer` gave (ReadTarget). False: pause the source. */
  didRead(n: number): boolean {
    const block = this.#block as Buffer;
    const chunk = block.subarray(this.#blockUsed, this.#blockUsed + n);
    this.#blockUsed += n;
    if (this.#blockUsed === block.length) {
      this.#fullBlocks.push(block);
      this.#block = undefined;
    }
    return this.push(chunk);
  }

  /**
   * Takes one received chunk (kept as a view: the caller must not reuse it). False: pause the
   * source until `onDrain` is called (the disk is behind by PAUSE_AT_BYTES).
   */
  push(chunk: Buffer): boolean {
    this.#received += chunk.length;
    if (this.#error !== undefined) return true;
    this.#chunks.push(chunk);
    this.#gathered += chunk.length;
    if (this.#inflight === undefined && this.#gathered >= WRITE_BLOCK_BYTES) this.#startWrite();
    if (this.#gathered < PAUSE_AT_BYTES) return true;
    this.#paused = true;
    return false;
  }

  /**
   * Writes what is still gathered; resolves with the bytes written, rejects on a write error.
   * `reuseBlocks`: the source has ended (EOF), so the blocks may serve other transfers; a failed
   * transfer passes false, in case a socket not yet closed still holds one of them for a read.
   */
  async finish(reuseBlocks = true): Promise<number> {
    await this.#settled();
    // the block being filled is part of this last write (no read fills it any more); after a
    // failure it is only dropped, never reused
    if (this.#block !== undefined && reuseBlocks) this.#fullBlocks.push(this.#block);
    this.#block = undefined;
    if (this.#error === undefined && this.#gathered > 0) {
      this.#startWrite();
      await this.#settled();
    }
    if (this.#error !== undefined) throw this.#error;
    const blocks = this.#fullBlocks.splice(0);
    if (reuseBlocks) giveBack(blocks);
    return this.#written;
  }

  /** Resolves once no write is running. */
  async #settled(): Promise<void> {
    while (this.#inflight !== undefined) await this.#inflight;
  }

  #startWrite(): void {
    const buffers = this.#chunks;
    const blocks = this.#fullBlocks;
    this.#chunks = [];
    this.#fullBlocks = [];
    this.#gathered = 0;
    this.#inflight = this.#writeAll(buffers).then(
      () => {
        giveBack(blocks);
        this.#afterWrite();
      },
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
