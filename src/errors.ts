/**
 * Every error radarlib throws, in one place (see docs/ERRORS.md).
 *
 * Users match on the stable `code`, never on the message. Each subclass carries the context an
 * operator needs at 3 a.m. (host, command, remote path, file, bit offset...) as fields, and the
 * message always starts with a fixed prefix naming the part that failed. Passwords are never
 * part of any field or message.
 */

export type RadarlibErrorCode =
  | 'RADARLIB_FTP_CONNECT'
  | 'RADARLIB_FTP_REPLY'
  | 'RADARLIB_FTP_TIMEOUT'
  | 'RADARLIB_FTP_SOCKET'
  | 'RADARLIB_FTP_SIZE_MISMATCH'
  | 'RADARLIB_FTP_CLOSED'
  | 'RADARLIB_FTP_TLS'
  | 'RADARLIB_SFTP_STATUS'
  | 'RADARLIB_SFTP_AUTH'
  | 'RADARLIB_SFTP_HOST_KEY'
  | 'RADARLIB_ABORTED'
  | 'RADARLIB_UNSAFE_PATH'
  | 'RADARLIB_LOCAL_IO'
  | 'RADARLIB_INCOMPLETE_FILE'
  | 'RADARLIB_INVALID_ARGUMENT'
  | 'RADARLIB_CONFIG'
  | 'RADARLIB_LEDGER'
  | 'RADARLIB_LEDGER_LOCKED'
  | 'RADARLIB_LEASE_LOST'
  | 'RADARLIB_BUFR_FORMAT'
  | 'RADARLIB_BUFR_UNSUPPORTED'
  | 'RADARLIB_BUFR_TABLE'
  | 'RADARLIB_CALLBACK'
  | 'RADARLIB_HTTP'
  | 'RADARLIB_QUICKLOOK_RENDER'
  | 'RADARLIB_QUICKLOOK_BUSY';

/**
 * The base of every error radarlib throws: a stable {@link RadarlibErrorCode} in `code` and a
 * message naming the file, path or key and what was wrong (never a password). See docs/ERRORS.md.
 *
 * @example
 * ```ts
 * try {
 *   await client.downloadFile('/L2/x.BUFR', './data');
 * } catch (err) {
 *   if (err instanceof RadarlibError && err.code === 'RADARLIB_FTP_TIMEOUT') retryLater();
 *   else throw err;
 * }
 * ```
 */
export class RadarlibError extends Error {
  readonly code: RadarlibErrorCode;
  constructor(code: RadarlibErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Anything thrown, as an Error (a thrown string or object keeps its text as the message). */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** Just the message of anything thrown. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The stable code of an error: `RADARLIB_…`, a Node code such as `ENOENT`, else its class name. */
export function errorCode(err: Error): string {
  if (err instanceof RadarlibError) return err.code;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code !== '' ? code : err.name;
}

/**
 * An error as one line with its code first (`RADARLIB_FTP_REPLY: FTP RETR … server replied 550`),
 * the way the ledger, the status page and the logs record a failure. The code is not repeated
 * when the message already starts with it (Node's `ENOENT: no such file…`).
 */
export function errorText(err: unknown): string {
  const error = toError(err);
  const code = errorCode(error);
  return error.message.startsWith(code) ? error.message : `${code}: ${error.message}`;
}

/** Where an FTP operation was talking to, for messages and logs. Never holds a password. */
export interface FtpErrorContext {
  host: string;
  port: number;
  /** The FTP command or high-level operation, e.g. `RETR`, `LIST`, `connect`. */
  command?: string;
  remotePath?: string;
  /** SFTP sources reuse these classes (one set of concepts); their messages start `SFTP`. */
  protocol?: 'ftp' | 'sftp';
}

function where(ctx: FtpErrorContext): string {
  const path = ctx.remotePath === undefined ? '' : ` ${ctx.remotePath}`;
  const cmd = ctx.command === undefined ? '' : `${ctx.command}`;
  return `${cmd}${path} on ${ctx.host}:${ctx.port}`.trim();
}

function protocolPrefix(ctx: FtpErrorContext): string {
  return ctx.protocol === 'sftp' ? 'SFTP' : 'FTP';
}

/** Base of all FTP-side failures. `transient` tells the pool and retry logic what to do. */
export class FtpError extends RadarlibError {
  readonly host: string;
  readonly port: number;
  readonly command: string | undefined;
  readonly remotePath: string | undefined;
  constructor(code: RadarlibErrorCode, detail: string, ctx: FtpErrorContext, options?: ErrorOptions) {
    super(code, `${protocolPrefix(ctx)} ${where(ctx)}: ${detail}`, options);
    this.host = ctx.host;
    this.port = ctx.port;
    this.command = ctx.command;
    this.remotePath = ctx.remotePath;
  }
}

/** The server answered with an error reply (4xx/5xx). The connection stays usable. */
export class FtpReplyError extends FtpError {
  readonly replyCode: number;
  constructor(
    replyCode: number,
    serverText: string,
    ctx: FtpErrorContext,
    options?: ErrorOptions,
    code: RadarlibErrorCode = 'RADARLIB_FTP_REPLY',
    detail = `server replied ${replyCode} ${serverText}`.trim(),
  ) {
    super(code, detail, ctx, options);
    this.replyCode = replyCode;
  }
  /** 4xx replies are "try again later"; 5xx are permanent for this request. */
  get transient(): boolean {
    return this.replyCode >= 400 && this.replyCode < 500;
  }
}

/** Could not establish or log in a control connection (refused, DNS, bad credentials). */
export class FtpConnectError extends FtpError {
  constructor(detail: string, ctx: FtpErrorContext, options?: ErrorOptions) {
    super('RADARLIB_FTP_CONNECT', detail, ctx, options);
  }
}

/** Which timeout fired: connecting (and logging in), waiting for a reply, or a stalled data transfer. */
export type FtpTimeoutPhase = 'connect' | 'command' | 'data';

/** A connect, command or data-stall timeout fired. The connection is destroyed and replaced. */
export class FtpTimeoutError extends FtpError {
  readonly phase: FtpTimeoutPhase;
  readonly timeoutMs: number;
  constructor(phase: FtpTimeoutPhase, timeoutMs: number, ctx: FtpErrorContext, options?: ErrorOptions) {
    const what = phase === 'data' ? 'no data for' : 'timed out after';
    super('RADARLIB_FTP_TIMEOUT', `${what} ${timeoutMs} ms (${phase} timeout)`, ctx, options);
    this.phase = phase;
    this.timeoutMs = timeoutMs;
  }
}

/** The control or data socket failed (reset, closed, TLS failure). The connection is replaced. */
export class FtpSocketError extends FtpError {
  constructor(detail: string, ctx: FtpErrorContext, options?: ErrorOptions) {
    super('RADARLIB_FTP_SOCKET', detail, ctx, options);
  }
}

/** The certificate of an FTPS server was refused (self-signed, wrong host, expired). */
export class FtpTlsError extends FtpError {
  constructor(detail: string, ctx: FtpErrorContext, options?: ErrorOptions) {
    super('RADARLIB_FTP_TLS', detail, ctx, options);
  }
}

/** A download ended with another byte count than the server announced. Nothing was renamed. */
export class FtpSizeMismatchError extends FtpError {
  readonly expected: number;
  readonly received: number;
  constructor(expected: number, received: number, ctx: FtpErrorContext) {
    super('RADARLIB_FTP_SIZE_MISMATCH', `expected ${expected} bytes, received ${received}`, ctx);
    this.expected = expected;
    this.received = received;
  }
}

/**
 * An SFTP server refused one request with a status (RFC draft-ietf-secsh-filexfer-02 7): no
 * such file, permission denied, failure. The connection stays usable. It is an `FtpReplyError`
 * whose `replyCode` is what an FTP server answers in the same case (550 for a missing or
 * unreadable file), so the daemon treats both protocols alike; `sftpStatus` is the SFTP code.
 */
export class SftpStatusError extends FtpReplyError {
  readonly sftpStatus: number;
  constructor(sftpStatus: number, serverText: string, ctx: FtpErrorContext, options?: ErrorOptions) {
    const replyCode =
      sftpStatus === SFTP_STATUS.NO_SUCH_FILE || sftpStatus === SFTP_STATUS.PERMISSION_DENIED ? 550 : 451;
    const name = SFTP_STATUS_NAMES[sftpStatus] ?? `status ${sftpStatus}`;
    const detail = `server refused: ${name}${serverText === '' ? '' : ` (${serverText})`}`;
    super(replyCode, serverText, { ...ctx, protocol: 'sftp' }, options, 'RADARLIB_SFTP_STATUS', detail);
    this.sftpStatus = sftpStatus;
  }
}

/** SFTP status codes (SSH_FX_*) a client meets. */
export const SFTP_STATUS = {
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  NO_CONNECTION: 6,
  CONNECTION_LOST: 7,
  OP_UNSUPPORTED: 8,
} as const;

const SFTP_STATUS_NAMES: Record<number, string> = {
  1: 'end of file',
  2: 'no such file',
  3: 'permission denied',
  4: 'failure',
  5: 'bad message',
  6: 'no connection',
  7: 'connection lost',
  8: 'operation unsupported',
};

/** The SSH server refused every offered credential (password, key, agent). */
export class SftpAuthError extends FtpError {
  /** The methods that were tried, e.g. `['password']`. */
  readonly methods: readonly string[];
  constructor(detail: string, methods: readonly string[], ctx: FtpErrorContext, options?: ErrorOptions) {
    super('RADARLIB_SFTP_AUTH', detail, { ...ctx, protocol: 'sftp' }, options);
    this.methods = methods;
  }
}

/** Why an SFTP server's host key was refused: not in known_hosts, different from it, or revoked. */
export type HostKeyProblem = 'unknown' | 'mismatch' | 'revoked';

/**
 * The server's host key was not the expected one: not in known_hosts (`unknown`), a
 * different key than known_hosts or the pinned fingerprint holds (`mismatch`, possibly an attack),
 * or marked `@revoked`. Nothing was sent to that server (no password, no key signature).
 */
export class SftpHostKeyError extends FtpError {
  readonly problem: HostKeyProblem;
  /** `SHA256:…` of the key the server presented. */
  readonly fingerprint: string;
  constructor(problem: HostKeyProblem, fingerprint: string, detail: string, ctx: FtpErrorContext) {
    super('RADARLIB_SFTP_HOST_KEY', `host key ${fingerprint}: ${detail}`, { ...ctx, protocol: 'sftp' });
    this.problem = problem;
    this.fingerprint = fingerprint;
  }
}

/** The client or pool was closed; no new work is accepted. */
export class FtpClosedError extends FtpError {
  constructor(ctx: FtpErrorContext, options?: ErrorOptions) {
    super('RADARLIB_FTP_CLOSED', 'client is closed', ctx, options);
  }
}

/** The caller's AbortSignal fired. `cause` holds the signal's reason. */
export class AbortedError extends RadarlibError {
  constructor(what: string, options?: ErrorOptions) {
    super('RADARLIB_ABORTED', `Aborted: ${what}`, options);
  }
}

/** A remote name that would escape the local folder (`..`, separators, NUL, CR/LF...). */
export class UnsafePathError extends RadarlibError {
  readonly remotePath: string;
  readonly reason: string;
  constructor(remotePath: string, reason: string) {
    super('RADARLIB_UNSAFE_PATH', `Unsafe remote name ${JSON.stringify(remotePath)}: ${reason}`);
    this.remotePath = remotePath;
    this.reason = reason;
  }
}

/** Writing, syncing or renaming a local file failed (disk full, permissions...). */
export class LocalIoError extends RadarlibError {
  readonly localPath: string;
  readonly syscallCode: string | undefined;
  constructor(localPath: string, detail: string, options?: ErrorOptions) {
    super('RADARLIB_LOCAL_IO', `Local file ${localPath}: ${detail}`, options);
    this.localPath = localPath;
    const cause = options?.cause as NodeJS.ErrnoException | undefined;
    this.syscallCode = cause?.code;
  }
  /**
   * True when waiting may fix it (a full disk gets space, a descriptor limit frees up); false
   * when an operator must act (permissions, a read-only file system, a name too long for it).
   */
  get transient(): boolean {
    return this.syscallCode === undefined || TRANSIENT_LOCAL_CODES.has(this.syscallCode);
  }
}

const TRANSIENT_LOCAL_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EMFILE', 'ENFILE', 'EBUSY', 'EAGAIN']);

/**
 * A download whose bytes are not a complete file (a BUFR message shorter than its section 0
 * says, no `7777`, a user check said no) or no longer the remote file's current version. It is
 * not committed and the file waits for its next listing, as one still being uploaded.
 */
export class IncompleteFileError extends RadarlibError {
  readonly remotePath: string;
  readonly reason: string;
  constructor(remotePath: string, reason: string) {
    super('RADARLIB_INCOMPLETE_FILE', `Download of ${remotePath} is not complete: ${reason}`);
    this.remotePath = remotePath;
    this.reason = reason;
  }
}

/** A caller passed an option the API cannot accept. The message names the option and value. */
export class InvalidArgumentError extends RadarlibError {
  readonly option: string;
  constructor(option: string, detail: string) {
    super('RADARLIB_INVALID_ARGUMENT', `Invalid ${option}: ${detail}`);
    this.option = option;
  }
}

/** The configuration file or environment is invalid. `key` is the dotted path of the bad key. */
export class ConfigError extends RadarlibError {
  readonly key: string;
  readonly source: string;
  constructor(source: string, key: string, detail: string, options?: ErrorOptions) {
    super('RADARLIB_CONFIG', `Config ${source}: ${key === '' ? '' : `${key}: `}${detail}`, options);
    this.key = key;
    this.source = source;
  }
}

/** The ledger store failed (I/O, schema, connection). */
export class LedgerError extends RadarlibError {
  readonly backend: 'sqlite' | 'postgres';
  constructor(backend: 'sqlite' | 'postgres', detail: string, options?: ErrorOptions) {
    super('RADARLIB_LEDGER', `Ledger (${backend}): ${detail}`, options);
    this.backend = backend;
  }
}

/**
 * A second daemon tried to open a SQLite ledger that a running daemon holds. A SQLite ledger
 * serves one daemon process (PostgreSQL is the store for several instances); read-only commands
 * such as `radarlib status` and `retry-failed` do not take the lock and still work.
 */
export class LedgerLockedError extends RadarlibError {
  /** The ledger file. */
  readonly path: string;
  /** Process id of the daemon holding it, when it could be read. */
  readonly holderPid: number | null;
  /** Host name the holder recorded. */
  readonly holderHost: string | null;
  constructor(path: string, holderPid: number | null, holderHost: string | null) {
    const who =
      holderPid === null
        ? 'another process'
        : `pid ${holderPid}${holderHost === null ? '' : ` on ${holderHost}`}`;
    super(
      'RADARLIB_LEDGER_LOCKED',
      `Ledger ${path} is in use by ${who}: one daemon per SQLite ledger (stop it, or give this daemon its own ledger)`,
    );
    this.path = path;
    this.holderPid = holderPid;
    this.holderHost = holderHost;
  }
}

/** An instance tried to complete a file whose claim had passed to another instance. */
export class LeaseLostError extends RadarlibError {
  readonly remotePath: string;
  constructor(remotePath: string) {
    super('RADARLIB_LEASE_LOST', `Lease lost for ${remotePath}: another instance owns it now`);
    this.remotePath = remotePath;
  }
}

/** Where in a BUFR message decoding failed. */
export interface BufrErrorContext {
  /** File name or a label for in-memory bytes. */
  file: string;
  section?: number;
  bitOffset?: number;
  /** Descriptor as `F XX YYY`, when one was being processed. */
  descriptor?: string;
}

function bufrWhere(ctx: BufrErrorContext): string {
  const parts = [ctx.file];
  if (ctx.section !== undefined) parts.push(`section ${ctx.section}`);
  if (ctx.bitOffset !== undefined) parts.push(`bit ${ctx.bitOffset}`);
  if (ctx.descriptor !== undefined) parts.push(`descriptor ${ctx.descriptor}`);
  return parts.join(', ');
}

/** The bytes are not a valid BUFR message (or not the radar structure expected). */
export class BufrFormatError extends RadarlibError {
  readonly file: string;
  readonly section: number | undefined;
  readonly bitOffset: number | undefined;
  readonly descriptor: string | undefined;
  constructor(detail: string, ctx: BufrErrorContext, options?: ErrorOptions) {
    super('RADARLIB_BUFR_FORMAT', `Not a valid BUFR message (${bufrWhere(ctx)}): ${detail}`, options);
    this.file = ctx.file;
    this.section = ctx.section;
    this.bitOffset = ctx.bitOffset;
    this.descriptor = ctx.descriptor;
  }
}

/** A valid BUFR feature this decoder does not implement; named, never decoded wrongly. */
export class BufrUnsupportedError extends RadarlibError {
  readonly file: string;
  readonly descriptor: string;
  constructor(descriptor: string, detail: string, file: string) {
    super('RADARLIB_BUFR_UNSUPPORTED', `Unsupported BUFR descriptor ${descriptor} in ${file}: ${detail}`);
    this.file = file;
    this.descriptor = descriptor;
  }
}

/** A line of a BUFR table CSV file (`bufrtabb_16.csv`, `localtabd_41_2.csv`) cannot be read. */
export class TableParseError extends RadarlibError {
  /** The file name or label the text came from. */
  readonly source: string;
  /** 1-based line number. */
  readonly line: number;
  constructor(source: string, line: number, detail: string) {
    super('RADARLIB_BUFR_TABLE', `BUFR table ${source}, line ${line}: ${detail}`);
    this.source = source;
    this.line = line;
  }
}

/** The user's callback or hook command failed for one file; recorded, never fatal. */
export class CallbackError extends RadarlibError {
  readonly localPath: string;
  constructor(localPath: string, detail: string, options?: ErrorOptions) {
    super('RADARLIB_CALLBACK', `Callback for ${localPath} failed: ${detail}`, options);
    this.localPath = localPath;
  }
}

/**
 * The status server's answer other than 200 (`GET /api/status`, quick-looks, retry). `message` is
 * a fixed text chosen by the code, never built from the request: a response must not reflect
 * what the client sent (docs/SECURITY.md). Sent as `{"error": message}` with `status`.
 */
export class HttpError extends RadarlibError {
  readonly status: number;
  /** Extra response headers (`allow`, `retry-after`). */
  readonly headers: Record<string, string>;
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super('RADARLIB_HTTP', message);
    this.status = status;
    this.headers = headers;
  }
}

/**
 * A quick-look render failed in its worker thread: the file's own error (unreadable, not valid
 * BUFR, nothing to draw) re-created on this side with its message, code and class name.
 */
export class QuicklookRenderError extends RadarlibError {
  /** The original error's stable code (`RADARLIB_BUFR_FORMAT`, `ENOENT`), when it had one. */
  readonly originalCode: string | null;
  /** The original error's class name (`BufrFormatError`), or `Closed` for a closed renderer. */
  readonly errorName: string;
  constructor(message: string, originalCode: string | null, errorName: string) {
    super('RADARLIB_QUICKLOOK_RENDER', message);
    this.originalCode = originalCode;
    this.errorName = errorName;
  }
}

/** More quick-looks are waiting to be rendered than the renderer queues: try again later. */
export class QuicklookBusyError extends RadarlibError {
  constructor() {
    super('RADARLIB_QUICKLOOK_BUSY', 'too many quick-looks waiting to be rendered');
  }
}
