/**
 * Listing: one folder as typed entries, a recursive walk, and glob/RegExp matching.
 *
 * basic-ftp parses MLSD, Unix and DOS listings. MLSD gives exact UTC times; a Unix `LIST` only
 * gives `Oct 20 15:28` (this year) or `Oct 20  2024` (older), which we read as UTC, the default
 * of vsftpd, ProFTPD and pure-ftpd. The daemon needs a time, even a coarse one, to tell versions
 * of a file apart.
 */
import { FileType, type FileInfo } from 'basic-ftp';
import picomatch from 'picomatch';
import { joinRemote } from './safe-name.js';

/** One entry of a folder listing (`listDir`): a file or a sub-folder, with size and mtime. */
export interface DirEntry {
  name: string;
  /** Absolute remote path. */
  path: string;
  type: 'file' | 'dir';
  size: number;
  modifiedAt: Date | null;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** Reads a Unix `ls` time (`Oct 20 15:28` or `Oct 20  2024`) as UTC; null when it is not one. */
export function parseUnixListTime(raw: string, now: Date = new Date()): Date | null {
  const m = /^([A-Za-z]{3})\s+(\d{1,2})\s+(?:(\d{1,2}):(\d{2})|(\d{4}))$/.exec(raw.trim());
  if (m === null) return null;
  const month = MONTHS.indexOf((m[1] ?? '').toLowerCase());
  if (month < 0) return null;
  const day = Number(m[2]);
  if (m[5] !== undefined) return new Date(Date.UTC(Number(m[5]), month, day));
  const hour = Number(m[3]);
  const minute = Number(m[4]);
  // "ls" shows hh:mm for the last six months: if that lands in the future, it was last year.
  let date = new Date(Date.UTC(now.getUTCFullYear(), month, day, hour, minute));
  if (date.getTime() > now.getTime() + 86_400_000) {
    date = new Date(Date.UTC(now.getUTCFullYear() - 1, month, day, hour, minute));
  }
  return date;
}

/** Turns basic-ftp's FileInfo into our entry; symlinks and unknown types are left out. */
export function toDirEntry(dir: string, info: FileInfo, now?: Date): DirEntry | null {
  if (info.name === '.' || info.name === '..') return null;
  let type: DirEntry['type'];
  if (info.type === FileType.File) type = 'file';
  else if (info.type === FileType.Directory) type = 'dir';
  else return null;
  const modifiedAt =
    info.modifiedAt ?? (info.rawModifiedAt ? parseUnixListTime(info.rawModifiedAt, now) : null);
  return { name: info.name, path: joinRemote(dir, info.name), type, size: info.size, modifiedAt };
}

/**
 * Builds the matcher for `pattern`, tested against the path relative to the listed folder.
 * A glob without `/` matches the base name at any depth (so `*.BUFR` works recursively too).
 */
export function makeMatcher(pattern: string | RegExp): (relativePath: string) => boolean {
  if (pattern instanceof RegExp) return (rel) => pattern.test(rel);
  const basenameOnly = !pattern.includes('/');
  const isMatch = picomatch(pattern, { dot: false, basename: basenameOnly });
  return (rel) => isMatch(rel);
}

/** In-flight upload names that are never taken: `.part`, `.tmp`, and dot-files. */
export function isInFlightName(name: string): boolean {
  return name.startsWith('.') || /\.(part|tmp|filepart|crdownload)$/i.test(name);
}
