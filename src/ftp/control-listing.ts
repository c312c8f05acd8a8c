/**
 * A folder listed on the control connection: `STAT <folder>` (RFC 959 4.1.3) answers with the
 * folder's `ls -l` lines inside its reply. No data connection: no EPSV, no TCP handshake, no TLS
 * handshake on FTPS, and no `226` a round trip after the data (ProFTPD): one round trip per
 * folder, where MLSD on a ready data connection takes two and on a fresh one four.
 *
 * The reply is read here, not by basic-ftp, for two reasons:
 * - **Where it ends.** A file name may hold CR LF, so a line `213 End of status` inside the
 *   listing could end the reply early and leave the real end to be taken as the next command's
 *   reply. `STAT` goes out in one write with `REST <random>` and `REST 0`: the first `350` naming
 *   the random number can only come from the server, after the whole STAT reply, and `REST 0`
 *   clears the restart offset again. A STAT reply that is not exactly one reply is not used.
 *   Sibling folders go in one write, each STAT with its own sentinel (stat-batch.ts).
 * - **Its size.** basic-ftp closes the connection on a control reply over 64 KiB (~800 lines).
 *
 * Servers: vsftpd, Pure-FTPd, pyftpdlib and ftp-srv answer 213, ProFTPD 212 with each line
 * indented by one space; vsftpd and Pure-FTPd answer a missing folder with an empty 213, so an
 * empty listing is not trusted here (the caller lists it again with MLSD); Pure-FTPd splits the
 * argument at blanks and servers expand globs, so only plain absolute paths go this way
 * ({@link statSafePath}). Times come in `ls` form: minutes, in the server's zone.
 */
import { randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import type { FileInfo, FTPContext, FTPResponse } from 'basic-ftp';
import type * as UnixParser from 'basic-ftp/dist/parseListUnix.js';
import { prefetchArrived } from './data-connection/index.js';

// With `require`, as src/ftp/basic-ftp.ts explains (an ESM import of basic-ftp costs start-up).
const unixParser = createRequire(import.meta.url)('basic-ftp/dist/parseListUnix.js') as typeof UnixParser;

/** What a STAT of a folder gave. */
export type StatOutcome =
  /** The folder's entries (`.` and `..` included as the server sent them). */
  | { kind: 'listing'; infos: FileInfo[] }
  /** The server refused the STAT (its reply code), or answered with no lines at all (`empty`). */
  | { kind: 'refused'; code: number }
  | { kind: 'empty' }
  /** A reply that cannot be trusted as a listing (split by a line from a file name, or unparsable). */
  | { kind: 'unusable' };

/** Replies that say a server does not know STAT with a path (RFC 959: 500, 501, 502, 504). */
export const STAT_UNKNOWN: readonly number[] = [500, 501, 502, 504];

/** Bytes of a STAT reply read at most; beyond, the connection is closed (like basic-ftp's 64 KiB). */
const MAX_STAT_REPLY_BYTES = 64 * 1024 * 1024;

/**
 * True when `path` can go as STAT's argument and mean exactly that folder on every server: an
 * absolute path with no blank (Pure-FTPd splits there), no glob or quoting character (`ls`
 * expands them), no control character.
 */
export function statSafePath(path: string): boolean {
  // eslint-disable-next-line no-control-regex
  return path.startsWith('/') && !/[\s*?[\]{}\\'"`$~!\x00-\x1f\x7f]/.test(path);
}

/** What statFolders reaches inside basic-ftp's FTPContext (protected there, plain in JS). */
interface ContextInternals {
  _onControlSocketData(chunk: string): void;
  _passToHandler(response: FTPResponse | Error): void;
}

/**
 * Sends `STAT <path>` for each of `paths`, each with the two REST as sentinel, all in one write
 * (sibling folders of a walk: one round trip for all of them), and reads the replies. Each STAT
 * has its own sentinel, so each reply is cut out alone and a reply split by a file name spoils
 * only its own folder. A prefetched EPSV reply still on its way (vsftpd, just after a transfer)
 * is awaited first: read raw, it would start the STAT's reply (data-connection/prefetch.ts
 * `prefetchArrived`). The outcomes come in the order of `paths`. Rejects only when the
 * connection fails (closed, timed out, a reply over 64 MiB per folder); the connection is then
 * closed and of no further use.
 */
export async function statFolders(ftp: FTPContext, paths: readonly string[]): Promise<StatOutcome[]> {
  await prefetchArrived(ftp, ftp.timeout);
  const tokens = paths.map(() => String(randomInt(1_000_000_000, 10_000_000_000)));
  const internals = ftp as unknown as ContextInternals;
  const ownHandler = Object.getOwnPropertyDescriptor(internals, '_onControlSocketData');
  let text = '';
  /** Where the next folder's reply starts in `text`, and the replies cut out so far. */
  let from = 0;
  const replies: string[] = [];
  const restore = (): void => {
    if (ownHandler === undefined) delete (internals as Partial<ContextInternals>)._onControlSocketData;
    else Object.defineProperty(internals, '_onControlSocketData', ownHandler);
  };
  // The replies are taken raw while this runs; the task's reply deadline and socket timeout stay.
  internals._onControlSocketData = (chunk: string) => {
    text += chunk;
    if (text.length > MAX_STAT_REPLY_BYTES * paths.length) {
      restore();
      ftp.closeWithError(new Error(`STAT reply over ${MAX_STAT_REPLY_BYTES} bytes`));
      return;
    }
    for (;;) {
      const at = sentinelEnd(text, tokens[replies.length] ?? '', from);
      if (at === undefined) return;
      replies.push(text.slice(from, at.start));
      from = at.next;
      if (replies.length === paths.length) {
        restore();
        // one synthetic reply for the task; the folders' own replies are in `replies`
        internals._passToHandler({ code: 213, message: '' });
        return;
      }
    }
  };
  // basic-ftp's send refuses CR LF: each command is sent alone, corked into one write, so that a
  // server running each received chunk's commands at once (ftp-srv) still answers them in order
  ftp.socket.cork();
  try {
    const done = ftp.handle(`STAT ${paths[0] ?? '/'}`, (res, task) => {
      restore();
      if (res instanceof Error) task.reject(res);
      else task.resolve(replies.map((reply, i) => notTheFileItself(readStatReply(reply), paths[i] ?? '')));
    }) as Promise<StatOutcome[]>;
    for (const [i, path] of paths.entries()) {
      if (i > 0) ftp.send(`STAT ${path}`);
      ftp.send(`REST ${tokens[i] ?? ''}`);
      ftp.send('REST 0');
    }
    return done;
  } finally {
    ftp.socket.uncork();
  }
}

/** STAT of a file lists that file (vsftpd, ftp-srv): a walk's root given as a file is no folder. */
function notTheFileItself(outcome: StatOutcome, path: string): StatOutcome {
  if (outcome.kind !== 'listing' || outcome.infos.length !== 1) return outcome;
  const [only] = outcome.infos;
  const base = path.slice(path.lastIndexOf('/') + 1);
  return only !== undefined && !only.isDirectory && (only.name === path || only.name === base)
    ? { kind: 'unusable' }
    : outcome;
}

/**
 * Where the replies to a STAT and its sentinel end in `text`, searched from `from` (0 or just
 * after a line end): the line `350 …<token>…` and the complete reply that follows it (`REST
 * 0`'s), or undefined while they have not all come. `start`: the offset of the sentinel line
 * (what precedes it, from `from`, is the STAT reply); `next`: the offset after `REST 0`'s reply.
 */
function sentinelEnd(text: string, token: string, from: number): { start: number; next: number } | undefined {
  const at = new RegExp(`(?:^|\\n)(350[ -][^\\n]*\\b${token}\\b[^\\n]*\\n)`, 'g');
  at.lastIndex = Math.max(0, from - 1);
  const m = at.exec(text);
  if (m === null) return undefined;
  const line = m[1] ?? '';
  const start = m.index + m[0].length - line.length;
  const next = replyEnd(text, start + line.length);
  return next === undefined ? undefined : { start, next };
}

/**
 * The offset after the one reply that starts at `from` in `text` (`ddd text`, or `ddd-` …
 * `ddd text`), or undefined while it has not all come.
 */
function replyEnd(text: string, from: number): number | undefined {
  let end = text.indexOf('\n', from);
  if (end < 0) return undefined;
  const first = text.slice(from, end);
  const code = /^(\d{3})-/.exec(first)?.[1];
  if (code === undefined) return /^\d{3}( |\r?$)/.test(first) ? end + 1 : undefined;
  const closing = new RegExp(`^${code}( |\\r?$)`);
  for (;;) {
    const lineStart = end + 1;
    end = text.indexOf('\n', lineStart);
    if (end < 0) return undefined;
    if (closing.test(text.slice(lineStart, end))) return end + 1;
  }
}

/** The STAT reply's text (`213-…` … `213 …`) as an outcome. */
export function readStatReply(reply: string): StatOutcome {
  const lines = reply.split(/\r?\n/).filter((l) => l.trim() !== '');
  const first = lines[0] ?? '';
  const single = /^(\d{3})(?: |$)/.exec(first);
  if (single !== null && lines.length === 1) {
    const code = Number(single[1]);
    return code >= 200 && code < 300 ? { kind: 'empty' } : { kind: 'refused', code };
  }
  const code = /^(21[123])-/.exec(first)?.[1];
  if (code === undefined) return { kind: 'unusable' };
  const closing = new RegExp(`^${code}(?: |$)`);
  const body = lines.slice(1, -1);
  // the reply's end must be its last line and only there: else a file name carried a line break
  if (!closing.test(lines[lines.length - 1] ?? '') || body.some((l) => closing.test(l))) {
    return { kind: 'unusable' };
  }
  return parseStatListing(body);
}

/** The listing lines of a STAT reply (ProFTPD's one-space indent removed), by basic-ftp's `ls` parser. */
export function parseStatListing(lines: readonly string[]): StatOutcome {
  const infos: FileInfo[] = [];
  for (const raw of lines) {
    const line = raw.startsWith(' ') ? raw.slice(1) : raw;
    if (/^total \d+$/.test(line)) continue;
    // a line not understood would drop an entry unseen: the folder goes by MLSD instead
    if (!unixParser.testLine(line)) return { kind: 'unusable' };
    const info = unixParser.parseLine(line);
    if (info !== undefined) infos.push(info); // undefined: `.` and `..`
  }
  if (infos.length === 0) return { kind: 'empty' };
  return { kind: 'listing', infos: unixParser.transformList(infos) };
}
