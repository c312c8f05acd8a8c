/**
 * Downloading one file over SFTP so that no partial file ever carries the final name, as
 * src/ftp/download.ts does for FTP:
 *
 *   OPEN remote  -->  <dir>/<name>.part (pipelined reads)  -->  fsync  -->  rename  -->  fsync <dir>
 *
 * SFTP reads are requests at an offset, answered in turn; one at a time would cost a round trip
 * per 32 KiB (0.6 MB/s on a 50 ms link), so `READ_LANES` of them are kept in flight and each
 * answer is written at its own offset. A failure truncates the `.part` to the bytes that arrived
 * without a hole, so the next attempt resumes from there. A `.part` is resumed only when the
 * remote file is unchanged: same size as listed and not modified after the `.part` was written
 * (SFTP gives the exact mtime, in seconds).
 */
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import {
  FtpSizeMismatchError,
  FtpTimeoutError,
  LocalIoError,
  RadarlibError,
  type FtpErrorContext,
} from '../errors.js';
import { partNameFor } from '../ftp/download.js';
import { toSftpError } from './connection.js';
import type { SftpRequests } from './requests.js';

export interface SftpDownloadRequest {
  remotePath: string;
  localDir: string;
  localName: string;
  /** Size from the listing; the file must still have it. */
  expectedSize: number | undefined;
  /** Modification time from the listing (with `expectedSize`, spares the FSTAT round trip). */
  modifiedAt: Date | null;
  resume: boolean;
  dataStallMs: number;
  onProgress?: (bytes: number) => void;
  /** Ends the transport, making pending reads fail (the stall watchdog's lever). */
  abortTransport: () => void;
  /** See `DownloadOptions.partKey`: the daemon's per-claim `.part` name. */
  partKey?: string | undefined;
}

/** A complete `.part`, closed but not yet durable nor renamed (`commitPart` does that). */
export interface ReceivedPart {
  partPath: string;
  finalPath: string;
  localDir: string;
}

/** 32 KiB: every SFTP server answers reads of this size whole (OpenSSH allows 256 KiB). */
const READ_CHUNK = 32 * 1024;
/** 32 × 32 KiB = 1 MiB in flight per file: fills a 20 MB/s × 50 ms link. */
const READ_LANES = 32;
/** Least progress per `dataStallMs` that counts as a live transfer (as for FTP). */
const STALL_MIN_BYTES = 1024;

async function resumableBytes(
  partPath: string,
  size: number,
  remoteMtimeMs: number,
  resume: boolean,
): Promise<number> {
  if (!resume) return 0;
  const part = await stat(partPath).catch(() => null);
  if (part === null || !part.isFile() || part.size === 0 || part.size > size) return 0;
  // Written before the remote file's last change: its bytes may be from the previous version.
  if (part.mtimeMs < remoteMtimeMs) return 0;
  return part.size;
}

async function fsyncPath(path: string, flags: 'r' | 'r+'): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Reads the remote file into `<name>.part` with one borrowed channel. Round trips per file: OPEN,
 * the reads, and FSTAT only when the listing did not give size and mtime; CLOSE is not waited for.
 */
export async function receiveOverSftp(
  requests: SftpRequests,
  req: SftpDownloadRequest,
  ctx: FtpErrorContext,
): Promise<ReceivedPart> {
  const finalPath = join(req.localDir, req.localName);
  const partPath = join(req.localDir, partNameFor(req.localName, req.partKey));
  const handle = await requests.open(req.remotePath, ctx);
  let local: FileHandle | undefined;
  try {
    let size: number;
    let mtimeMs: number;
    if (req.expectedSize !== undefined && req.modifiedAt !== null) {
      size = req.expectedSize;
      mtimeMs = req.modifiedAt.getTime();
    } else {
      const remote = await requests.fstat(handle, ctx);
      if (req.expectedSize !== undefined && remote.size !== req.expectedSize) {
        // Changed since it was listed: the caller lists again rather than take a surprise.
        await unlink(partPath).catch(() => undefined);
        throw new FtpSizeMismatchError(req.expectedSize, remote.size, ctx);
      }
      size = remote.size;
      mtimeMs = remote.mtime * 1000;
    }
    const startAt = await resumableBytes(partPath, size, mtimeMs, req.resume);
    try {
      local = await open(partPath, startAt > 0 ? 'r+' : 'w');
    } catch (err) {
      throw new LocalIoError(partPath, 'cannot open for writing', { cause: err });
    }
    await readInto(requests, handle, local, startAt, size, req, ctx, partPath);
  } finally {
    await local?.close().catch(() => undefined);
    requests.closeLater(handle, ctx);
  }
  return { partPath, finalPath, localDir: req.localDir };
}

/**
 * fsync the `.part`, run `beforeCommit` (the daemon's verify and lease fence; a throw discards
 * the `.part`), rename it to its final name, fsync the folder; returns the final path.
 */
export async function commitPart(
  part: ReceivedPart,
  beforeCommit?: (partPath: string) => Promise<void>,
): Promise<string> {
  try {
    await fsyncPath(part.partPath, 'r+');
  } catch (err) {
    throw new LocalIoError(part.partPath, 'fsync failed', { cause: err });
  }
  if (beforeCommit !== undefined) {
    try {
      await beforeCommit(part.partPath);
    } catch (err) {
      await unlink(part.partPath).catch(() => undefined);
      throw err;
    }
  }
  try {
    await rename(part.partPath, part.finalPath);
    await fsyncPath(part.localDir, 'r');
  } catch (err) {
    throw new LocalIoError(part.finalPath, 'cannot move the complete .part into place', { cause: err });
  }
  return part.finalPath;
}

/** Pipelined reads of [startAt, size) into `local`; on failure leaves only a hole-free prefix. */
async function readInto(
  requests: SftpRequests,
  handle: Buffer,
  local: FileHandle,
  startAt: number,
  size: number,
  req: SftpDownloadRequest,
  ctx: FtpErrorContext,
  partPath: string,
): Promise<void> {
  let next = startAt;
  let received = startAt;
  /** Bytes from startAt that arrived with no hole before them: what a resume may keep. */
  let contiguous = startAt;
  const finished = new Map<number, number>();
  let failure: unknown;
  let stalled = false;
  let markBytes = received;
  let markAt = Date.now();
  const watchdog = setInterval(
    () => {
      if (received - markBytes >= STALL_MIN_BYTES || received === size) {
        markBytes = received;
        markAt = Date.now();
      } else if (Date.now() - markAt > req.dataStallMs) {
        stalled = true;
        req.abortTransport();
      }
    },
    Math.min(1000, req.dataStallMs),
  );

  const lane = async (): Promise<void> => {
    // Bounded: `next` only grows, by up to READ_CHUNK per pass, to `size`.
    while (failure === undefined && next < size) {
      const offset = next;
      const end = Math.min(offset + READ_CHUNK, size);
      next = end;
      for (let at = offset; at < end;) {
        const bytes = await requests.read(handle, at, end - at);
        if (bytes.length === 0) throw new FtpSizeMismatchError(size, at, ctx); // shrank meanwhile
        try {
          await local.write(bytes, 0, bytes.length, at);
        } catch (err) {
          throw new LocalIoError(
            partPath,
            `write failed (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
            {
              cause: err,
            },
          );
        }
        at += bytes.length;
        received += bytes.length;
        req.onProgress?.(received);
      }
      finished.set(offset, end);
      for (let e = finished.get(contiguous); e !== undefined; e = finished.get(contiguous)) {
        finished.delete(contiguous);
        contiguous = e;
      }
    }
  };
  // A file that grew since it was listed must not be cut at the listed size: one read past the
  // end, sent with the others (no extra round trip), must find nothing.
  const probe: Promise<unknown> = requests.read(handle, size, 1).then(
    (extra) => (extra.length > 0 ? new FtpSizeMismatchError(size, size + extra.length, ctx) : undefined),
    (err: unknown) => err,
  );
  const lanes = Array.from({ length: Math.min(READ_LANES, Math.ceil((size - startAt) / READ_CHUNK)) }, () =>
    lane().catch((err: unknown) => {
      failure ??= err;
    }),
  );
  try {
    await Promise.all(lanes);
    failure ??= await probe;
  } finally {
    clearInterval(watchdog);
  }
  if (failure === undefined) return;
  if (failure instanceof FtpSizeMismatchError) {
    // Another version than listed: none of these bytes are worth resuming.
    await unlink(partPath).catch(() => undefined);
    throw failure;
  }
  // Keep the hole-free prefix for the next attempt; nothing at all is not worth a .part.
  await local.truncate(contiguous).catch(() => undefined);
  if (contiguous === 0) await unlink(partPath).catch(() => undefined);
  if (stalled) throw new FtpTimeoutError('data', req.dataStallMs, ctx, { cause: failure });
  throw failure instanceof RadarlibError ? failure : toSftpError(failure, ctx);
}
