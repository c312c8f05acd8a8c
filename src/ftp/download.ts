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
import { once } from 'node:events';
import { mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client, FTPContext, FTPResponse } from 'basic-ftp';
import { DirSync, defaultDirSync, syncPath } from './dir-sync.js';
import { readInto, resumeReading } from './data-socket.js';
import { expectDataBytes } from './data-connection/index.js';
import { FileSink } from './file-sink.js';
import { PartFile } from './part-file.js';
import { fileSyncs } from '../util/sync-slots.js';
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
  handle?: PartFile | undefined;
  /**
   * Settles once every received byte is in the `.part` (rejects with the write error). The last
   * block is still being written when the connection is handed on: `commitPart` waits for it, so
   * that write is off the transfers' path.
   */
  written?: Promise<unknown> | undefined;
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
 * byte count. The connection is free again when this returns; `commitPart` does the rest. A
 * `.part` that cannot be opened fails the file after EPSV went out: the connection is closed
 * (see closeUnused), the pool opens another for the next file.
 */
export async function receivePart(
  client: Client,
  req: AtomicDownloadRequest,
  ctx: FtpErrorContext,
): Promise<ReceivedPart> {
  const finalPath = join(req.localDir, req.localName);
  const partPath = join(req.localDir, partNameFor(req.localName, req.partKey));
  let opened: OpenedPart | undefined;
  // bytes in the `.part`: its kept size, then what arrived (after a failure: what was written)
  let received = 0;
  // The `.part` opens (a thread-pool round trip, more for a leftover one) while EPSV is under way.
  const opening = openPart(req, partPath).then((part) => {
    opened = part;
    received = part.startAt;
    return part;
  });
  let written: Promise<number>;
  try {
    // An empty file is still fetched: RETR is what tells us the server lets us read it.
    const got = await transfer(client, opening, partPath, req, ctx, (bytes) => {
      received = (opened?.startAt ?? 0) + bytes;
    });
    received = (opened?.startAt ?? 0) + got.received;
    written = got.written;
    if (received !== req.size) {
      await written.catch(() => undefined);
      throw new FtpSizeMismatchError(req.size, received, ctx);
    }
  } catch (err) {
    // an open that succeeded after the transfer failed still leaves a descriptor to close
    if (opened === undefined) await opening.catch(() => undefined);
    if (opened !== undefined) {
      await opened.handle.close();
      // Keep a non-empty, shorter .part for the next attempt's REST; anything else is garbage.
      if (received === 0 || received > req.size || err instanceof FtpSizeMismatchError) {
        await unlink(partPath).catch(() => undefined);
      }
    }
    throw wrapLocal(err, partPath, 'write failed');
  }
  return {
    partPath,
    finalPath,
    localDir: req.localDir,
    handle: (opened as OpenedPart).handle,
    written,
    beforeCommit: req.beforeCommit,
  };
}

/** The open `.part` and the offset the transfer starts at (its size when resumed, else 0). */
interface OpenedPart {
  handle: PartFile;
  startAt: number;
}

/**
 * Opens the `.part` for writing and says where the transfer starts. Usually no `.part` is left:
 * it is created exclusively, one file-system call (no `stat` first); only a leftover one
 * (EEXIST) is looked at, and continued when it may be (see resumableBytes).
 */
async function openPart(req: AtomicDownloadRequest, partPath: string): Promise<OpenedPart> {
  const created = await openCreatingFolder(req.localDir, partPath, req.resume ? 'wx' : 'w');
  if (created !== null) return { handle: created, startAt: 0 };
  const startAt = await resumableBytes(partPath, req);
  const handle = await openCreatingFolder(req.localDir, partPath, startAt > 0 ? 'r+' : 'w');
  if (handle === null) throw cannotOpen(partPath, undefined);
  return { handle, startAt };
}

/** Opens `partPath`, creating `localDir` first when it is missing; null when `wx` finds one. */
async function openCreatingFolder(
  localDir: string,
  partPath: string,
  flags: string,
): Promise<PartFile | null> {
  try {
    return await PartFile.open(partPath, flags);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && flags === 'wx') return null;
    if (code !== 'ENOENT') throw cannotOpen(partPath, err);
  }
  // Created on first use, not before every file: one file-system call less per transfer.
  try {
    await mkdir(localDir, { recursive: true });
  } catch (err) {
    throw new LocalIoError(localDir, 'cannot create the folder', { cause: err });
  }
  try {
    return await PartFile.open(partPath, flags);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST' && flags === 'wx') return null;
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
export async function commitPart(
  part: ReceivedPart,
  dirSync: DirSync = defaultDirSync,
  lingerMs = 0,
): Promise<string> {
  // Once fdatasync'ed the descriptor is closed on this thread (no pool round trip, see
  // part-file.ts); after a failure it is closed through the pool, and the file is reported (or
  // the error thrown) only once it is closed.
  const handle = part.handle;
  let closed: Promise<unknown> | undefined;
  try {
    let synced = false;
    try {
      await part.written;
      // in one of the process's sync slots: the running transfers keep threads for their writes
      await fileSyncs.add(() => (handle === undefined ? syncPath(part.partPath, 'data') : handle.datasync()));
      synced = true;
    } catch (err) {
      throw wrapLocal(err, part.partPath, 'write failed');
    } finally {
      if (synced) handle?.closeDurable();
      else closed = handle?.close();
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
      await dirSync.sync(part.localDir, lingerMs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException | undefined)?.code;
      const detail = `cannot move the complete .part into place${code === undefined ? '' : ` (${code})`}`;
      throw new LocalIoError(part.finalPath, detail, { cause: err });
    }
  } finally {
    await closed;
  }
  return part.finalPath;
}

/**
 * How long a batch's folder fsync waits for more renames before it starts. At one connection a
 * loopback file takes ~2 ms: without it every file had its own folder fsync (a journal commit
 * beside the next transfers, docs/PERFORMANCE.md session 6). A batch does not wait for its
 * commits, so the wait is off the transfers' path; a single `downloadFile` does not linger (its
 * caller waits for the commit, and no other rename is coming).
 */
export const FOLDER_SYNC_LINGER_MS = 5;

/** `commitPart` for a batch: the folder fsync lingers (see FOLDER_SYNC_LINGER_MS). */
export function commitInBatch(part: ReceivedPart): Promise<string> {
  return commitPart(part, defaultDirSync, FOLDER_SYNC_LINGER_MS);
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
 * RETR (with REST when resuming) into the `.part`, with a data-stall watchdog. The `.part` is
 * opened (`opening`) while EPSV goes out: at one connection the open was a thread-pool round trip
 * in series with every file (docs/PERFORMANCE.md, session 6). On failure
 * every byte received is written before this throws (a dropped connection leaves a `.part` to
 * resume from). On success it returns once the server's final reply and the data's end arrived:
 * the last write may still run (`written`), so the connection goes to the next file without
 * waiting for the disk (one thread-pool round trip less on each file's path).
 *
 * The data socket's chunks go straight into the FileSink (see retrieve): no stream pipeline, and
 * one timer per transfer, which also reports progress, instead of basic-ftp's three.
 */
async function transfer(
  client: Client,
  opening: Promise<OpenedPart>,
  partPath: string,
  req: AtomicDownloadRequest,
  ctx: FtpErrorContext,
  onBytes: (bytes: number) => void,
): Promise<{ received: number; written: Promise<number> }> {
  let finished = false;
  let writeError: Error | undefined;
  let sink: FileSink | undefined;
  let startAt = 0;
  // bytes received; after a failure, those in the `.part`
  let received = (): number => sink?.bytesReceived ?? 0;
  let reported = -1;
  // A data connection that delivers less than STALL_MIN_BYTES in dataStallMs is abandoned: a
  // silent one and one trickling a byte now and then alike.
  let markBytes = 0;
  let markAt = Date.now();
  let stalled = false;
  const report = (): void => {
    if (received() === reported) return;
    reported = received();
    onBytes(reported);
    req.onProgress?.(startAt + reported);
  };
  const watchdog = setInterval(
    () => {
      report();
      if (received() - markBytes >= STALL_MIN_BYTES) {
        markBytes = received();
        markAt = Date.now();
      }
      if (Date.now() - markAt <= req.dataStallMs) return;
      // An event loop that was held up runs its timers before it reads the sockets: judge only
      // after the replies already waiting (a 550, the 226) have been handled.
      setImmediate(() => {
        if (finished || received() - markBytes >= STALL_MIN_BYTES) return;
        stalled = true;
        client.close();
      });
    },
    Math.min(PROGRESS_MS, req.dataStallMs),
  );
  try {
    const path = req.remotePath.startsWith(' ')
      ? await client.protectWhitespace(req.remotePath)
      : req.remotePath;
    // with overlapSetup, the size lets the data slot go to the next file before this one ends
    // (a resumed `.part` brings fewer bytes: its slot then goes later, at the latest at the data's end)
    expectDataBytes(client.ftp, req.size);
    // EPSV (and the data connection) while the `.part` opens; both must settle before RETR
    // (the `.part`'s kept size is the REST offset) and before this returns (basic-ftp runs one
    // task at a time: a failed open must not leave the EPSV's task behind).
    const [part, passive] = await Promise.allSettled([opening, client.prepareTransfer(client.ftp)]);
    if (passive.status === 'rejected') throw passive.reason;
    if (part.status === 'rejected') {
      await closeUnused(client);
      throw part.reason;
    }
    startAt = part.value.startAt;
    // A failing write (ENOSPC...) must end the transfer at once: closing the connection makes the
    // pending RETR reject instead of waiting on a destination that will never catch up.
    const fileSink = new FileSink(part.value.handle, startAt, (err) => {
      writeError = err;
      // once the transfer is over the connection serves another file; commitPart reports it
      if (!finished) client.close();
    });
    sink = fileSink;
    await retrieve(client.ftp, path, startAt, fileSink);
    finished = true;
    // The last block is written while the connection already serves the next file.
    const written = fileSink.finish();
    written.catch(() => undefined); // awaited by commitPart; a failure must not go unhandled here
    return { received: fileSink.bytesReceived, written };
  } catch (err) {
    finished = true;
    // What arrived is written (a resume continues after it), and no write runs when the caller
    // closes the descriptor; a write error is the one reported below.
    await sink?.finish(false).catch(() => undefined);
    const inFile = sink?.bytesWritten ?? 0;
    received = () => inFile;
    if (stalled) throw new FtpTimeoutError('data', req.dataStallMs, ctx, { cause: err });
    if (writeError !== undefined) throw wrapLocal(writeError, partPath, 'write failed');
    throw err;
  } finally {
    clearInterval(watchdog);
    report();
  }
}

/**
 * Closes a connection whose data connection was opened for a transfer that will not be sent (its
 * `.part` could not be opened). Not only the data connection: a server that accepted it may answer
 * its close on the control connection, unasked (data-connection/ready.ts), so the pool opens a fresh one.
 * The data socket is destroyed and let go first: a data slot (data-connection/gate.ts) is given back on its
 * `close`, and basic-ftp's own close removes that listener before it runs.
 */
async function closeUnused(client: Client): Promise<void> {
  const data = client.ftp.dataSocket;
  if (data !== undefined && !data.destroyed) {
    const closed = once(data, 'close');
    data.destroy();
    await closed;
  }
  client.close();
}

/** Progress is reported (and the stall watchdog looks) this often. */
const PROGRESS_MS = 500;

/**
 * Sends RETR (after REST when `startAt` > 0) on a context whose data connection is open or
 * opening, and feeds the data socket into `sink`. Resolves with the final reply once the server
 * said the transfer is complete AND the data connection ended (every byte handed to the sink);
 * rejects on an error reply, a socket error, a write error, or the context closing. basic-ftp's `downloadTo` does the same through a
 * stream pipeline, a watchdog and a progress poll per transfer; our watchdog is in `transfer`.
 */
function retrieve(
  ftp: FTPContext,
  remotePath: string,
  startAt: number,
  sink: FileSink,
): Promise<FTPResponse> {
  if (ftp.dataSocket === undefined) throw new Error('RETR without a data connection');
  let started = false;
  let dataDone = false;
  let settled = false;
  let reply: FTPResponse | undefined;
  return ftp.handle(startAt > 0 ? `REST ${startAt}` : `RETR ${remotePath}`, (res, task) => {
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      ftp.socket.setTimeout(ftp.timeout);
      ftp.dataSocket = undefined;
      task.reject(err);
    };
    const tryResolve = (): void => {
      if (settled || !dataDone || reply === undefined) return;
      settled = true;
      ftp.dataSocket = undefined;
      task.resolve(reply);
    };
    if (res instanceof Error) fail(res);
    else if (res.code === 150 || res.code === 125) {
      // only the first preliminary reply starts the transfer (as basic-ftp)
      if (started) return;
      started = true;
      const data = ftp.dataSocket;
      if (data === undefined) {
        fail(new Error('RETR: the transfer should begin but there is no data connection'));
        return;
      }
      // The control connection sits idle during the transfer: the stall watchdog judges it.
      ftp.socket.setTimeout(0);
      data.setTimeout(0);
      sink.onDrain = () => resumeReading(data);
      // A plain data socket of ours reads straight into the sink's blocks (data-socket.ts);
      // others (TLS, the first transfer's) emit chunks.
      if (!readInto(data, sink))
        data.on('data', (chunk: Buffer) => {
          if (!sink.push(chunk)) data.pause();
        });
      // Every byte has been handed to the sink; its last write may still run (see transfer).
      const onEnd = (): void => {
        ftp.socket.setTimeout(ftp.timeout);
        dataDone = true;
        tryResolve();
      };
      // A transfer of no bytes (an empty file, REST at the end) may have ended already: its FIN
      // can arrive before the 150 (WAN, relays), and 'end' is not emitted twice.
      if (data.readableEnded) onEnd();
      else data.once('end', onEnd);
    } else if (res.code === 350) ftp.send(`RETR ${remotePath}`);
    else if (res.code >= 200 && res.code < 300) {
      reply = res;
      tryResolve();
    } else if (res.code >= 300) {
      ftp.closeWithError(new Error(`Unexpected FTP response is requesting an answer: ${res.message}`));
    }
  }) as Promise<FTPResponse>;
}
