import { close, closeSync, fdatasync, open, writev } from 'node:fs';

/** What FileSink writes into: a `PartFile`, or a `FileHandle` (the tests use both). */
export interface WritableFile {
  writev(buffers: Buffer[], position: number): Promise<{ bytesWritten: number }>;
}

/**
 * A `.part`'s descriptor, on `node:fs`'s callback calls instead of a `FileHandle`.
 *
 * Why: every file operation of Node is a trip through libuv's thread pool, and on a busy machine
 * the main thread pays for each hand-off (it wakes a pool thread, which may take its core: the
 * `open`, `writev`, `fdatasync` and `close` calls of the `.part` cost 40–80 ms of main-thread
 * time per 240 loopback files each, docs/PERFORMANCE.md session 7). So the close after a
 * finished fdatasync happens here, on this thread (`closeDurable`): nothing is left to flush,
 * the kernel only drops the descriptor. A close that may still have to write (after a failed
 * transfer, see `close`) still goes through the pool, so a slow or hung file system never holds
 * the event loop.
 */
export class PartFile implements WritableFile {
  readonly #fd: number;
  #closed = false;

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /** Opens `path` with `flags` (`fs.open`'s: 'wx', 'w', 'r+') and mode 0o666 less the umask. */
  static open(path: string, flags: string): Promise<PartFile> {
    return new Promise((resolve, reject) => {
      open(path, flags, 0o666, (err, fd) => (err === null ? resolve(new PartFile(fd)) : reject(err)));
    });
  }

  writev(buffers: Buffer[], position: number): Promise<{ bytesWritten: number }> {
    return new Promise((resolve, reject) => {
      writev(this.#fd, buffers, position, (err, bytesWritten) =>
        err === null ? resolve({ bytesWritten }) : reject(err),
      );
    });
  }

  datasync(): Promise<void> {
    return new Promise((resolve, reject) => {
      fdatasync(this.#fd, (err) => (err === null ? resolve() : reject(err)));
    });
  }

  /**
   * Closes at once on the calling thread: only after `datasync` resolved and no write runs (the
   * data is on the disk, so close has nothing to wait for). Errors are ignored: the bytes are
   * already durable, and the descriptor is gone either way (close(2) never leaves it open).
   */
  closeDurable(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      closeSync(this.#fd);
    } catch {
      // see above
    }
  }

  /** Closes through the thread pool (unsynced data may be flushed, e.g. on NFS); never rejects. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return new Promise((resolve) => close(this.#fd, () => resolve()));
  }
}
