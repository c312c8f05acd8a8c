import { Transform, type TransformCallback } from 'node:stream';

/** Received bytes reach the file in blocks of about this size. */
const WRITE_BLOCK_BYTES = 512 * 1024;
/** A chunk this large goes to the file as it is (a full socket read on a fast link). */
const LARGE_CHUNK_BYTES = 64 * 1024;

/**
 * Gathers the data socket's chunks into blocks before they reach the file stream.
 *
 * A data socket hands over whatever arrived since the last read: 64 KiB on loopback, but a few
 * KiB on a paced WAN link, and one file `write` per chunk was the largest CPU cost of a WAN
 * mirror (1.4 s of 3.4 s busy in the profile, docs/PERFORMANCE.md). Bytes gathered when a transfer
 * fails are dropped: the `.part` is then shorter and a resume starts that much earlier.
 */
export class BlockGatherer extends Transform {
  #chunks: Buffer[] = [];
  #gathered = 0;

  constructor() {
    super({ highWaterMark: WRITE_BLOCK_BYTES });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#gathered === 0 && chunk.length >= LARGE_CHUNK_BYTES) {
      // loopback / LAN: the socket already hands over large chunks; no copy
      this.push(chunk);
      callback();
      return;
    }
    this.#chunks.push(chunk);
    this.#gathered += chunk.length;
    if (this.#gathered >= WRITE_BLOCK_BYTES) this.#emit();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.#gathered > 0) this.#emit();
    callback();
  }

  #emit(): void {
    this.push(this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks, this.#gathered));
    this.#chunks = [];
    this.#gathered = 0;
  }
}
