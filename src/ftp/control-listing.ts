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

/** What statFolder reaches inside basic-ftp's FTPContext (protected there, plain in JS). */
interface ContextInternals {
  _onControlSocketData(chunk: string): void;
  _passToHandler(response: FTPResponse | Error): void;
}

/**
 * Sends `STAT <path>` (with the two REST as sentinel, in one write) and reads its reply. Rejects
 * only when the connection fails (closed, timed out, a reply over 64 MiB); the connection is
 * then closed and of no further use.
 */
export function statFolder(ftp: FTPContext, path: string): Promise<StatOutcome> {
  const token = String(randomInt(1_000_000_000, 10_000_000_000));
  const internals = ftp as unknown as ContextInternals;
  const ownHandler = Object.getOwnPropertyDescriptor(internals, '_onControlSocketData');
  let text = '';
  const restore = (): void => {
    if (ownHandler === undefined) delete (internals as Partial<ContextInternals>)._onControlSocketData;
    else Object.defineProperty(internals, '_onControlSocketData', ownHandler);
  };
  // The replies are taken raw while this runs; the task's reply deadline and socket timeout stay.
  internals._onControlSocketData = (chunk: string) => {
    text += chunk;
    if (text.length > MAX_STAT_REPLY_BYTES) {
      restore();
      ftp.closeWithError(new Error(`STAT reply over ${MAX_STAT_REPLY_BYTES} bytes`));
      return;
    }
    const end = sentinelEnd(text, token);
    if (end === undefined) return;
    restore();
    // one synthetic reply for the task: the whole text up to the sentinel
    internals._passToHandler({ code: 213, message: text.slice(0, end) });
  };
  // basic-ftp's send refuses CR LF: each command is sent alone, corked into one write, so that a
  // server running each received chunk's commands at once (ftp-srv) still answers them in order
  ftp.socket.cork();
  try {
    const done = ftp.handle(`STAT ${path}`, (res, task) => {
      restore();
      if (res instanceof Error) task.reject(res);
      else task.resolve(notTheFileItself(readStatReply(res.message), path));
    }) as Promise<StatOutcome>;
    ftp.send(`REST ${token}`);
    ftp.send('REST 0');
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
 * Where the replies to the STAT and its sentinel end in `text`: after the line `350 …<token>…`
 * and the complete reply that follows it (`REST 0`'s), or undefined while they have not all come.
 * Returns the offset of the sentinel line: what precedes it is the STAT reply.
 */
function sentinelEnd(text: string, token: string): number | undefined {
  const at = new RegExp(`(?:^|\\n)(350[ -][^\\n]*\\b${token}\\b[^\\n]*\\n)`).exec(text);
  if (at === null) return undefined;
  const start = at.index + (at[0].length - (at[1]?.length ?? 0));
  const after = text.slice(start + (at[1]?.length ?? 0));
  // REST 0's reply: one line `ddd text`, or `ddd-` … `ddd text`
  const lines = after.split('\n');
  const first = lines[0] ?? '';
  const code = /^(\d{3})-/.exec(first)?.[1];
  const complete =
    code === undefined
      ? lines.length > 1 && /^\d{3}( |\r?$)/.test(first)
      : lines.slice(1, -1).some((l) => new RegExp(`^${code}( |\\r?$)`).test(l));
  return complete ? start : undefined;
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
