/**
 * The SFTP requests radarlib sends, as promises bounded by the command timeout. A request that
 * times out destroys its connection (an SFTP request cannot be cancelled on its own).
 */
import type { FileEntryWithStats, Stats } from 'ssh2';
import { SFTP_STATUS, type FtpErrorContext } from '../errors.js';
import { withTimeout } from './connection.js';
import type { SftpChannel } from './pool.js';

/** A folder of a million names arrives in fewer batches than this (OpenSSH sends 100 per batch). */
const MAX_READDIR_BATCHES = 100_000;

export class SftpRequests {
  readonly #channel: SftpChannel;
  readonly #commandMs: number;

  constructor(channel: SftpChannel, commandMs: number) {
    this.#channel = channel;
    this.#commandMs = commandMs;
  }

  #run<T>(
    ctx: FtpErrorContext,
    start: (done: (err: Error | null | undefined, value?: T) => void) => void,
  ): Promise<T> {
    return withTimeout(this.#commandMs, ctx, start, () => this.#channel.connection.destroy());
  }

  /** False once the connection under the channel is gone (requests would never be answered). */
  get usable(): boolean {
    return !this.#channel.connection.closed;
  }

  /**
   * OPENDIR, READDIR until end of folder, then CLOSE without waiting for its answer: on a 50 ms
   * link that last round trip is 50 ms per folder of a date tree.
   */
  async readdir(path: string, ctx: FtpErrorContext): Promise<FileEntryWithStats[]> {
    const sftp = this.#channel.sftp;
    const handle = await this.#run<Buffer>(ctx, (done) => sftp.opendir(path, (err, h) => done(err, h)));
    const entries: FileEntryWithStats[] = [];
    try {
      // Bounded: each READDIR answers at least one name or end-of-folder.
      for (let batch = 0; batch < MAX_READDIR_BATCHES; batch++) {
        const list = await this.#run<FileEntryWithStats[] | null>(ctx, (done) =>
          sftp.readdir(handle, (err, l) => {
            if ((err as { code?: unknown } | undefined)?.code === SFTP_STATUS.EOF) done(null, null);
            else done(err, l);
          }),
        );
        if (list === null) return entries;
        entries.push(...list);
      }
      return entries;
    } finally {
      this.closeLater(handle, ctx);
    }
  }

  /** Sends CLOSE and does not wait: the answer (or its failure) changes nothing for the caller. */
  closeLater(handle: Buffer, ctx: FtpErrorContext): void {
    if (this.usable) this.close(handle, ctx).catch(() => undefined);
  }

  stat(path: string, ctx: FtpErrorContext): Promise<Stats> {
    return this.#run(ctx, (done) => this.#channel.sftp.stat(path, (err, stats) => done(err, stats)));
  }

  open(path: string, ctx: FtpErrorContext): Promise<Buffer> {
    return this.#run(ctx, (done) => this.#channel.sftp.open(path, 'r', (err, handle) => done(err, handle)));
  }

  fstat(handle: Buffer, ctx: FtpErrorContext): Promise<Stats> {
    return this.#run(ctx, (done) => this.#channel.sftp.fstat(handle, (err, stats) => done(err, stats)));
  }

  close(handle: Buffer, ctx: FtpErrorContext): Promise<void> {
    return this.#run(ctx, (done) => this.#channel.sftp.close(handle, (err) => done(err)));
  }

  /**
   * Reads up to `length` bytes at `position` into a fresh buffer; fewer at end of file. Not bounded
   * by the command timeout: the download's data-stall watchdog covers reads.
   */
  read(handle: Buffer, position: number, length: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const buf = Buffer.allocUnsafe(length);
      this.#channel.sftp.read(handle, buf, 0, length, position, (err, bytesRead) => {
        if (err !== null && err !== undefined) {
          // EOF (status 1) at or past the end is "no more bytes", not a failure.
          if ((err as { code?: unknown }).code === 1) resolve(buf.subarray(0, 0));
          else reject(err);
        } else resolve(buf.subarray(0, bytesRead));
      });
    });
  }
}
