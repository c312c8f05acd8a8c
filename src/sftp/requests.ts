/**
 * The SFTP requests radarlib sends, as promises bounded by the command timeout. A request that
 * times out destroys its connection (an SFTP request cannot be cancelled on its own).
 */
import type { FileEntryWithStats, Stats } from 'ssh2';
import type { FtpErrorContext } from '../errors.js';
import { withTimeout } from './connection.js';
import type { SftpChannel } from './pool.js';

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

  readdir(path: string, ctx: FtpErrorContext): Promise<FileEntryWithStats[]> {
    return this.#run(ctx, (done) => this.#channel.sftp.readdir(path, (err, list) => done(err, list)));
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
