/**
 * Downloading one file so that no partial file ever carries the final name.
 *
 *   <dir>/<part>  --(all bytes, count checked against the remote size)-->  fdatasync
 *   --> beforeCommit (verify, lease fence)  --> rename to <dir>/<name>  --> fsync <dir>
 *
 * The `.part` is `<name>.part` for plain downloads, or, with a `partKey` (the daemon: one per
 * ledger row and owner), `.<name, cut>.<hash>.part`: two writers of one target never share a
 * `.part`, and any name up to the 255-byte limit still has a `.part` name that fits.
 *
 * The first step needs the FTP connection (`receivePart`); the rest (`commitPart`) does not, so
 * a batch hands the connection to the next transfer while the disk catches up, and renames that
 * land in one folder at about the same time share one folder fsync (group commit, `DirSync`).
 *
 * A crash at any point leaves either no final file or a complete one. A leftover `.part` is
 * continued with REST when it is shorter than the remote file and was written after the remote
 * file's last modification (so its bytes are from the current version); otherwise it is discarded.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from 'basic-ftp';
import { DirSync, defaultDirSync, syncPath } from './dir-sync.js';
import { FileSink } from './file-sink.js';
import { FtpSizeMismatchError, FtpTimeoutError, LocalIoError, type FtpErrorContext } from '../errors.js';

export interface AtomicDownloadRequest {
  remotePath: string;
  localDir: string;
  localName: string;
  /** Remote size, from the listing or SIZE. */
  size: number;
  /** Remote modification time when known (decides whether a `.part` may be resumed). */
  modifiedAt: Date | null;
  resume: boolean;
  dataStallMs: number;
  onProgress?: (bytes: number) => void;
  /** See `DownloadOptions.partKey`. */
  partKey?: string;
  /** See `DownloadOptions.beforeCommit`. */
  beforeCommit?: (partPath: string) => Promise<void>;
}

export const PART_SUFFIX = '.part';

/** Longest file name (bytes) of Linux file systems (ext4, xfs, btrfs) and of most others. */
const NAME_MAX = 255;
/** Bytes of the final name kept in a keyed `.part` name, for operators who look at the folder. */
const PART_NAME_KEEP = 80;

/** The longest prefix of `name` that fits in `maxBytes` of UTF-8 without cutting a character. */
function utf8Prefix(name: string, maxBytes: number): string {
  let out = '';
  let bytes = 0;
  for (const ch of name) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/**
 * The `.part` name of `localName`: `<name>.part` when there is no key and it fits, else a hidden,
 * short, unique one (`.<name cut to 80 bytes>.<16 hex of sha256(name, key)>.part`, ≤ 104 bytes).
 */
export function partNameFor(localName: string, partKey?: string): string {
  const plain = localName + PART_SUFFIX;
  if (partKey === undefined && Buffer.byteLength(plain) <= NAME_MAX) return plain;
  const hash = createHash('sha256')
    .update(`${localName}\0${partKey ?? ''}`)
    .digest('hex')
    .slice(0, 16);
  return `.${utf8Prefix(localName, PART_NAME_KEEP)}.${hash}${PART_SUFFIX}`;
}

/** Least progress per `dataStallMs` that counts as a live data connection. */
const STALL_MIN_BYTES = 1024;

/** How many bytes of a leftover `.part` may be kept (0: start over). */
async function resumableBytes(partPath: string, req: AtomicDownloadRequest): Promise<number> {
  if (!req.resume) return 0;
  const part = await stat(partPath).catch(() => null);
  if (part === null || !part.isFile()) return 0;
  if (part.size === 0 || part.size > req.size) return 0;
  if (req.modifiedAt !== null && part.mtimeMs < req.modifiedAt.getTime()) return 0;
  return part.size;
}

/** A `.part` that holds every byte of the remote file, not yet durable and not yet renamed. */
export interface ReceivedPart {
  partPath: string;
  finalPath: string;
  localDir: string;
  /**
   * The `.part`'s descriptor, still open: `commitPart` fdatasyncs and closes it (no second open).
   * Every ReceivedPart goes through `commitPart`, which closes it.
   */
  handle?: FileHandle | undefined;
  /** Runs after the fdatasync, immediately before the rename (see `DownloadOptions.beforeCommit`). */
  beforeCommit?: ((partPath: string) => Promise<void>) | undefined;
}

/**
 * Removes keyed `.part` files of `localName` left by other writers (a killed instance, a claim
 * that expired) once the file is committed: nobody can resume them. Reads the folder, so the
 * daemon calls it only for files that had an earlier attempt.
 */
export async function removeStaleParts(localDir: string, localName: string): Promise<number> {
  const prefix = `.${utf8Prefix(localName, PART_NAME_KEEP)}.`;
  const keyed = new RegExp(`^[0-9a-f]{16}\\${PART_SUFFIX}$`);
  let removed = 0;
  for (const entry of await readdir(localDir).catch(() => [] as string[])) {
    if (!entry.startsWith(prefix) || !keyed.test(entry.slice(prefix.length))) continue;
    await unlink(join(localDir, entry)).then(
      () => removed++,
      () => undefined,
    );
  }
  return removed;
}

/**
 * The network half: RETR into `<name>.part` with `client` (already logged in) and check the
 * byte count. The connection is free again when this returns; `commitPart` does the rest.
 */
export async function receivePart(
  client: Client,
  req: AtomicDownloadRequest,
  ctx: FtpErrorContext,
): Promise<ReceivedPart> {
  const finalPath = join(req.localDir, req.localName);
  const partPath = join(req.localDir, partNameFor(req.localName, req.partKey));
  const startAt = await resumableBytes(partPath, req);
  const handle = await openPart(req.localDir, partPath, startAt);
  let received = startAt;
  try {
    // An empty file is still fetched: RETR is what tells us the server lets us read it.
    const written = await transfer(client, handle, partPath, startAt, req, ctx, (bytes) => {
      received = startAt + bytes;
    });
    // The `.part` was empty or exactly `startAt` long when opened: its size is what was written.
    received = startAt + written;
    if (received !== req.size) throw new FtpSizeMismatchError(req.size, received, ctx);
  } catch (err) {
    await handle.close().catch(() => undefined);
    // Keep a non-empty, shorter .part for the next attempt's REST; anything else is garbage.
    if (received === 0 || received > req.size || err instanceof FtpSizeMismatchError) {
      await unlink(partPath).catch(() => undefined);
    }
    throw wrapLocal(err, partPath, 'write failed');
  }
  return { partPath, finalPath, localDir: req.localDir, handle, beforeCommit: req.beforeCommit };
}

/** Opens the `.part` for writing, creating `localDir` first when it is missing. */
async function openPart(localDir: string, partPath: string, startAt: number): Promise<FileHandle> {
  const flags = startAt > 0 ? 'r+' : 'w';
  try {
    return await open(partPath, flags);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw cannotOpen(partPath, err);
  }
  // Created on first use, not before every file: one file-system call less per transfer.
  try {
    await mkdir(localDir, { recursive: true });
  } catch (err) {
    throw new LocalIoError(localDir, 'cannot create the folder', { cause: err });
  }
  try {
    return await open(partPath, flags);
  } catch (err) {
    throw cannotOpen(partPath, err);
  }
}

function cannotOpen(partPath: string, err: unknown): LocalIoError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const detail = `cannot open for writing${code === undefined ? '' : ` (${code})`}`;
  return new LocalIoError(partPath, detail, { cause: err });
}

/**
 * The local half: fdatasync the `.part`, rename it to its final name, fsync the folder (shared
 * with the other renames of the moment, see DirSync). Only then is the file durable under its
 * final name; a crash before leaves the `.part` (resumed or discarded next time).
 */
export async function commitPart(part: ReceivedPart, dirSync: DirSync = defaultDirSync): Promise<string> {
  try {
    if (part.handle === undefined) await syncPath(part.partPath, 'data');
    else await part.handle.datasync();
  } catch (err) {
    throw wrapLocal(err, part.partPath, 'write failed');
  } finally {
    await part.handle?.close().catch(() => undefined);
  }
  if (part.beforeCommit !== undefined) {
    try {
      await part.beforeCommit(part.partPath);
    } catch (err) {
      // Incomplete, stale, or no longer ours: these bytes never take the final name.
      await unlink(part.partPath).catch(() => undefined);
      throw err;
    }
  }
  try {
    await rename(part.partPath, part.finalPath);
    await dirSync.sync(part.localDir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    const detail = `cannot move the complete .part into place${code === undefined ? '' : ` (${code})`}`;
    throw new LocalIoError(part.finalPath, detail, { cause: err });
  }
  return part.finalPath;
}

/** Downloads with `client` (already logged in) and returns the final local path. */
export async function downloadAtomically(
  client: Client,
  req: AtomicDownloadRequest,
  ctx: FtpErrorContext,
): Promise<string> {
  return commitPart(await receivePart(client, req, ctx));
}

/** Local failures, named in the message with their code (see `LocalIoError.transient`). */
const LOCAL_CODES = new Set([
  'ENOSPC',
  'EDQUOT',
  'EACCES',
  'EROFS',
  'EIO',
  'EFBIG',
  'EPERM',
  'ENAMETOOLONG',
  'ENOTDIR',
  'EISDIR',
  'EMFILE',
  'ENFILE',
]);

function wrapLocal(err: unknown, path: string, what: string): unknown {
  if (err instanceof LocalIoError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && LOCAL_CODES.has(code)) {
    return new LocalIoError(path, `${what} (${code})`, { cause: err });
  }
  return err;
}

/**
 * RETR (with REST when resuming) into the open `.part`, with a data-stall watchdog. Every byte
 * received is written to the descriptor before this returns, on success and on failure alike
 * (bytes still gathered when a transfer fails are dropped).
 */
async function transfer(
  client: Client,
  handle: FileHandle,
  partPath: string,
  startAt: number,
  req: AtomicDownloadRequest,
  ctx: FtpErrorContext,
  onBytes: (bytes: number) => void,
): Promise<number> {
  // A data connection that delivers less than STALL_MIN_BYTES in dataStallMs is abandoned: a
  // silent one and one trickling a byte now and then alike. basic-ftp reports progress every
  // 500 ms whether bytes came or not, so only growth counts.
  let markBytes = 0;
  let markAt = Date.now();
  let stalled = false;
  let finished = false;
  let writeError: Error | undefined;
  client.trackProgress((info) => {
    onBytes(info.bytes);
    req.onProgress?.(startAt + info.bytes);
    if (info.bytes - markBytes >= STALL_MIN_BYTES) {
      markBytes = info.bytes;
      markAt = Date.now();
    }
  });
  const watchdog = setInterval(
    () => {
      if (Date.now() - markAt <= req.dataStallMs) return;
      // An event loop that was held up runs its timers before it reads the sockets: judge only
      // after the replies already waiting (a 550, the 226) have been handled.
      setImmediate(() => {
        if (finished || Date.now() - markAt <= req.dataStallMs) return;
        stalled = true;
        client.close();
      });
    },
    Math.min(1000, req.dataStallMs),
  );
  const sink = new FileSink(handle, startAt);
  // A failing write (ENOSPC...) must end the transfer at once: closing the connection makes
  // basic-ftp's pending task reject instead of waiting on a destination that will never drain.
  sink.once('error', (err) => {
    writeError = err;
    client.close();
  });
  const settled = new Promise<void>((resolve) => sink.once('close', () => resolve()));
  try {
    // basic-ftp pipes the data socket into the sink and resolves once it finished and the 226
    // came; the sink has then written every byte.
    await client.downloadTo(sink, req.remotePath, startAt);
    finished = true;
    return sink.bytesWritten;
  } catch (err) {
    finished = true;
    sink.destroy();
    // a write still running must be over before the caller closes the descriptor
    await settled;
    if (stalled) throw new FtpTimeoutError('data', req.dataStallMs, ctx, { cause: err });
    if (writeError !== undefined) throw wrapLocal(writeError, partPath, 'write failed');
    throw err;
  } finally {
    clearInterval(watchdog);
    client.trackProgress();
  }
}
