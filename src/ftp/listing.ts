/**
 * Listing: one folder as typed entries, a recursive walk, and glob/RegExp matching.
 *
 * basic-ftp parses MLSD, Unix and DOS listings. MLSD gives exact UTC times (RFC 3659); a Unix
 * `LIST` only gives `Oct 20 15:28` (recent: minute precision) or `Oct 20  2024` (older than about
 * six months: day precision), in whatever zone the server renders. We read a LIST time as if it
 * were UTC and say so (`modifiedAtInServerZone`), with its precision: the daemon corrects it with
 * the source's server clock (src/daemon/server-clock.ts) and compares versions at that precision.
 */
import type { Client, FileInfo } from 'basic-ftp';
// basic-ftp's own listing pieces, public in their modules (see listFolder)
import type { ProgressTracker } from 'basic-ftp/dist/ProgressTracker.js';
import { downloadTo, FileType, FTPError, StringWriter } from './basic-ftp.js';
import { loadPicomatch } from '../util/picomatch.js';
import { joinRemote } from './safe-name.js';

/** One entry of a folder listing (`listDir`): a file or a sub-folder, with size and mtime. */
export interface DirEntry {
  name: string;
  /** Absolute remote path. */
  path: string;
  type: 'file' | 'dir';
  size: number;
  modifiedAt: Date | null;
  /** Precision of `modifiedAt` in ms: 1000 (MLSD), 60 000 (LIST `hh:mm`), 86 400 000 (LIST year). */
  modifiedAtPrecisionMs: number;
  /**
   * True when `modifiedAt` is a LIST time: the server's wall clock read as if it were UTC. False
   * for MLSD/MDTM times, which are UTC.
   */
  modifiedAtInServerZone: boolean;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** Reads a Unix `ls` time (`Oct 20 15:28` or `Oct 20  2024`) as UTC; null when it is not one. */
export function parseUnixListTime(raw: string, now: Date = new Date()): Date | null {
  return parseUnixListTimeWithPrecision(raw, now)?.date ?? null;
}

/** `parseUnixListTime` with the precision the format gives (a minute, or a day for year formats). */
export function parseUnixListTimeWithPrecision(
  raw: string,
  now: Date = new Date(),
): { date: Date; precisionMs: number } | null {
  const m = /^([A-Za-z]{3})\s+(\d{1,2})\s+(?:(\d{1,2}):(\d{2})|(\d{4}))$/.exec(raw.trim());
  if (m === null) return null;
  const month = MONTHS.indexOf((m[1] ?? '').toLowerCase());
  if (month < 0) return null;
  const day = Number(m[2]);
  if (m[5] !== undefined) return { date: new Date(Date.UTC(Number(m[5]), month, day)), precisionMs: DAY_MS };
  const hour = Number(m[3]);
  const minute = Number(m[4]);
  // "ls" shows hh:mm for the last six months: if that lands in the future, it was last year.
  let date = new Date(Date.UTC(now.getUTCFullYear(), month, day, hour, minute));
  if (date.getTime() > now.getTime() + 86_400_000) {
    date = new Date(Date.UTC(now.getUTCFullYear() - 1, month, day, hour, minute));
  }
  return { date, precisionMs: MINUTE_MS };
}

/** Turns basic-ftp's FileInfo into our entry; symlinks and unknown types are left out. */
export function toDirEntry(dir: string, info: FileInfo, now?: Date): DirEntry | null {
  if (info.name === '.' || info.name === '..') return null;
  let type: DirEntry['type'];
  if (info.type === FileType.File) type = 'file';
  else if (info.type === FileType.Directory) type = 'dir';
  else return null;
  // One object literal per entry, no spread of a temporary: a 200,000-entry listing makes these
  // by the hundred thousand, and every temporary raises the peak memory of a big walk.
  const listed =
    info.modifiedAt === undefined && info.rawModifiedAt
      ? parseUnixListTimeWithPrecision(info.rawModifiedAt, now)
      : null;
  return {
    name: info.name,
    path: joinRemote(dir, info.name),
    type,
    size: info.size,
    modifiedAt: info.modifiedAt ?? listed?.date ?? null,
    modifiedAtPrecisionMs: listed?.precisionMs ?? 1000,
    modifiedAtInServerZone: listed !== null,
  };
}

/**
 * Builds the matcher for `pattern`, tested against the path relative to the listed folder.
 * A glob without `/` matches the base name at any depth (so `*.BUFR` works recursively too).
 */
export function makeMatcher(pattern: string | RegExp): (relativePath: string) => boolean {
  if (pattern instanceof RegExp) return (rel) => pattern.test(rel);
  const basenameOnly = !pattern.includes('/');
  const isMatch = loadPicomatch()(pattern, { dot: false, basename: basenameOnly });
  return (rel) => isMatch(rel);
}

/** In-flight upload names that are never taken: `.part`, `.tmp`, and dot-files. */
export function isInFlightName(name: string): boolean {
  return name.startsWith('.') || /\.(part|tmp|filepart|crdownload)$/i.test(name);
}

/** What `listFolder` reaches inside basic-ftp's Client (protected there, plain properties in JS). */
interface ListInternals {
  options: { maxListingBytes?: number };
  _progressTracker: ProgressTracker;
  _requestListWithCommand?: (command: string) => Promise<FileInfo[]>;
}

/**
 * `client.list(path)`, and with `onDataEnd` the folder's entries as soon as the listing's data
 * connection has ended, before the server's `226` confirms it. A server such as ProFTPD sends the
 * `226` a round trip after the last byte (once the client has closed its side); a tree walk can
 * start the sub-folders' listings on other connections meanwhile (walk.ts). Only that: these
 * entries may be cut short if the server then reports a failed transfer, so files are taken from
 * the returned (confirmed) listing alone.
 *
 * basic-ftp's listing (`_requestListWithCommand`: its StringWriter piped from the data
 * connection) is run as written there, with the writer's `finish` observed; the override is this
 * call's own and removed when it ends.
 */
export async function listFolder(
  client: Client,
  path: string,
  onDataEnd?: (infos: FileInfo[]) => void,
): Promise<FileInfo[]> {
  const candidates = client.availableListCommands;
  if (candidates.length < 2 || candidates[0] !== 'MLSD') return listWith(client, path, onDataEnd);
  // basic-ftp tries the next command (LIST) after *any* refusal of MLSD; a LIST of a folder the
  // server may not read can come back empty with a 226 (seen on Pure-FTPd and ProFTPD), so a
  // connection that had not listed yet would report an unreadable folder as empty. The server
  // announced MLSD (FEAT): fall back only when it says it does not know the command.
  client.availableListCommands = ['MLSD'];
  try {
    return await listWith(client, path, onDataEnd);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (!(err instanceof FTPError) || typeof code !== 'number' || !MLSD_UNKNOWN.includes(code)) {
      if (client.availableListCommands[0] === 'MLSD') client.availableListCommands = candidates;
      throw err;
    }
    client.availableListCommands = candidates.slice(1);
    try {
      return await listWith(client, path, onDataEnd);
    } catch (fallbackErr) {
      // LIST could not list it either (pyftpdlib answers MLSD of a missing folder with 501): the
      // folder is the trouble, not MLSD, which the connection keeps for its next listings.
      client.availableListCommands = candidates;
      throw fallbackErr;
    }
  }
}

/** Replies that say a server does not know MLSD after all (RFC 959: 500, 501, 502, 504). */
const MLSD_UNKNOWN = [500, 501, 502, 504];

async function listWith(
  client: Client,
  path: string,
  onDataEnd: ((infos: FileInfo[]) => void) | undefined,
): Promise<FileInfo[]> {
  if (onDataEnd === undefined) return client.list(path);
  const internals = client as unknown as ListInternals;
  internals._requestListWithCommand = async (command) => {
    const buffer = new StringWriter(internals.options.maxListingBytes);
    buffer.once('finish', () => {
      try {
        onDataEnd(client.parseList(buffer.getText(client.ftp.encoding)));
      } catch {
        // unparsable here: the confirmed listing reports it
      }
    });
    await downloadTo(buffer, {
      ftp: client.ftp,
      tracker: internals._progressTracker,
      command,
      remotePath: '',
      type: 'list',
    });
    return client.parseList(buffer.getText(client.ftp.encoding));
  };
  try {
    return await client.list(path);
  } finally {
    delete internals._requestListWithCommand;
  }
}
