/**
 * One logged-in FTP control connection (a basic-ftp `Client`), how to open it, and how to turn
 * whatever basic-ftp or the socket threw into one of our typed errors.
 */
import type { FTPContext, FTPResponse } from 'basic-ftp';
// (the transfer module's functions are not re-exported by basic-ftp's index, but public in their
// own module: we need them to build our NAT-safe PASV strategy)
import {
  Client,
  connectForPassiveTransfer,
  FTPError,
  parseEpsvResponse,
  parsePasvResponse,
} from './basic-ftp.js';
import { Socket } from 'node:net';
import {
  connect as tlsConnect,
  createSecureContext,
  type ConnectionOptions,
  type SecureContext,
  type TLSSocket,
} from 'node:tls';
import {
  AbortedError,
  FtpConnectError,
  FtpError,
  FtpReplyError,
  FtpSocketError,
  FtpTimeoutError,
  FtpTlsError,
  type FtpErrorContext,
} from '../errors.js';
import { noteGreeting, openDataConnection, usePassiveCommand } from './data-connection/index.js';
import { newDataSocket } from './data-socket.js';
import { pipelinedLogin } from './login-pipeline.js';
import type { FtpServerOptions, FtpTimeouts } from './types.js';

export const DEFAULT_TIMEOUTS: FtpTimeouts = { connectMs: 15_000, commandMs: 30_000, dataStallMs: 30_000 };

/** Server options with every default applied. */
export interface ResolvedServer {
  host: string;
  port: number;
  username: string;
  password: string;
  secure: false | 'explicit' | 'implicit';
  tls: FtpServerOptions['tls'];
  epsv: boolean;
  maxConnections: number;
  timeouts: FtpTimeouts;
  /** Commands sent to this server by every connection (the load the daemon shows per source). */
  readonly sent: { commands: number };
  /** FTPS: the key-exchange group this server chose, offered first from then on (see keyGroups). */
  readonly tlsGroup: { chosen: string | undefined };
  /**
   * Whether logins send their commands in one flight; false from the first such login that got
   * no answer in time (a middlebox or server that loses pipelined commands: login-pipeline.ts).
   */
  readonly login: { pipelined: boolean };
}

export function resolveServer(options: FtpServerOptions): ResolvedServer {
  const secure = options.secure ?? false;
  return {
    host: options.host,
    port: options.port ?? (secure === 'implicit' ? 990 : 21),
    username: options.username ?? 'anonymous',
    password: options.password ?? '',
    secure,
    tls: options.tls,
    epsv: options.epsv ?? true,
    maxConnections: options.maxConnections ?? 5,
    timeouts: { ...DEFAULT_TIMEOUTS, ...options.timeouts },
    sent: { commands: 0 },
    tlsGroup: { chosen: undefined },
    login: { pipelined: true },
  };
}

/**
 * One way to ask for a passive data port. PASV: always connecting to the control connection's
 * host on the announced port. A server behind NAT often announces its private address;
 * connecting to the announced address would fail, and connecting to a *third* host is the FTP
 * bounce attack. The port is all we take. EPSV (RFC 2428) announces only a port.
 */
interface PassiveMode {
  command: 'EPSV' | 'PASV';
  port: (reply: string) => number;
}

const EPSV: PassiveMode = { command: 'EPSV', port: parseEpsvResponse };
const PASV: PassiveMode = { command: 'PASV', port: (reply) => parsePasvResponse(reply).port };

/**
 * The transfer's data connection: ready, prefetched or asked for now (data-connection/index.ts
 * says which and when the transfer may start), opened to the control host.
 */
function enterPassive(ftp: FTPContext, mode: PassiveMode, connectEarly: boolean): Promise<FTPResponse> {
  return openDataConnection(ftp, mode.command, connectEarly, (reply) =>
    connectData(ftp, mode.port(reply.message), connectEarly),
  );
}

/**
 * Opens the data connection to the control host. `connectEarly`: return at once, so that RETR
 * goes out while the TCP (and TLS) handshakes run: one round trip less per file. A server answers
 * RETR only once it accepted the data connection, so nothing is lost; basic-ftp's error handler
 * on the data socket closes the session if the connection fails, as it does mid-transfer.
 */
async function connectData(ftp: FTPContext, port: number, connectEarly: boolean): Promise<void> {
  const controlHost = ftp.socket.remoteAddress;
  if (controlHost === undefined) throw new Error('control socket is disconnected');
  const host = controlHost.replace(/^::ffff:/i, '');
  if (!connectEarly) {
    await connectForPassiveTransfer(host, port, ftp);
    return;
  }
  // plain: a socket a download can read straight into its own memory (data-socket.ts)
  const raw = ftp.hasTLS ? new Socket() : newDataSocket();
  raw.connect({ port, host, family: ftp.ipFamily });
  if (!ftp.hasTLS) {
    ftp.dataSocket = raw;
    return;
  }
  // FTPS: the TLS handshake starts once TCP is up, resuming the control connection's session
  // (servers such as vsftpd with require_ssl_reuse refuse data connections that do not).
  const secure = tlsConnect({
    ...ftp.tlsOptions,
    secureContext: dataContext(ftp),
    socket: raw,
    session: ftp.tlsSessionStore ?? (ftp.socket as TLSSocket).getSession(),
  });
  secure.on('session', (session: Buffer) => {
    ftp.tlsSessionStore = session;
  });
  ftp.dataSocket = secure;
}

const dataContexts = new WeakMap<FTPContext, { options: ConnectionOptions; context: SecureContext }>();

/**
 * One TLS context (CA certificates, ciphers, groups) for all of a control connection's data
 * connections. `tls.connect` with plain options builds a new one per connection: parsing the
 * certificates again each time was most of the client's TLS set-up CPU per file (a profile of
 * 120 FTPS downloads: ~0.4 ms of ~0.8 ms). Rebuilt when the options change (rememberKeyGroup).
 */
function dataContext(ftp: FTPContext): SecureContext {
  const options = ftp.tlsOptions;
  const cached = dataContexts.get(ftp);
  if (cached?.options === options) return cached.context;
  const context = createSecureContext(options);
  dataContexts.set(ftp, { options, context });
  return context;
}

/** Opens and logs in one connection. Closes it on any failure, including `signal` firing. */
export async function openConnection(server: ResolvedServer, signal?: AbortSignal): Promise<Client> {
  const ctx: FtpErrorContext = { host: server.host, port: server.port, command: 'connect' };
  if (signal?.aborted === true) throw new AbortedError(`connecting to ${server.host}:${server.port}`);
  const client = new Client(server.timeouts.commandMs);

  client.prepareTransfer = firstWorking(server.epsv ? [EPSV, PASV] : [PASV], client);
  watchCommands(client.ftp, server.timeouts.commandMs, server.sent);

  let timedOut = false;
  const connectTimer = setTimeout(() => {
    timedOut = true;
    client.close();
  }, server.timeouts.connectMs);
  const onAbort = (): void => client.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  // set while the login's commands are out in one flight (see the catch)
  const stage = { pipelining: false };
  try {
    const greeting = await logIn(client, server, stage);
    noteGreeting(client.ftp, greeting);
    return client;
  } catch (err) {
    client.close();
    // (read through a function: TypeScript narrowed `aborted` to false at the top)
    if (isAborted(signal)) {
      throw new AbortedError(`connecting to ${server.host}:${server.port}`, { cause: signal?.reason });
    }
    if (timedOut) {
      // the greeting came but the pipelined login got no answer: this server's logins go one
      // command at a time from now on
      if (stage.pipelining) server.login.pipelined = false;
      throw new FtpTimeoutError('connect', server.timeouts.connectMs, ctx, { cause: err });
    }
    throw toFtpError(err, ctx);
  } finally {
    clearTimeout(connectTimer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Asks for MLSD facts we parse; a server without MLST just refuses it (ignored). */
const OPTS_MLST =
  'OPTS MLST type;size;modify;unique;unix.mode;unix.owner;unix.group;unix.ownername;unix.groupname;';

/**
 * Connect, log in and set the session up in fewer round trips than basic-ftp's `access()`.
 *
 * `access()` sends `OPTS UTF8 ON` twice and `STRU F` (the default since RFC 959), each after the
 * previous reply: about 10 round trips, half a second per connection on a 50 ms link. Here:
 * greeting, [AUTH TLS], then USER, PASS, FEAT and the single-line settings (and FTPS's PBSZ and
 * PROT) in one flight, their replies read together (login-pipeline.ts): one round trip.
 */
async function logIn(
  client: Client,
  server: ResolvedServer,
  stage: { pipelining: boolean },
): Promise<string> {
  const tls = {
    ...server.tls,
    servername: server.tls?.servername ?? tlsServerName(server.host),
    ...keyGroups(server),
  };
  const greeting =
    server.secure === 'implicit'
      ? await client.connectImplicitTLS(server.host, server.port, tls)
      : await client.connect(server.host, server.port);
  // No Nagle: it holds each pipelined command until the previous one is acknowledged, which on a
  // WAN comes with its reply: the pipelining below would save nothing (seen in a packet capture).
  client.ftp.socket.setNoDelay(true);
  // the data connections resume this session under the control connection's host name
  if (server.secure === 'explicit') await client.useTLS({ ...tls, host: tls.host ?? server.host });
  if (client.ftp.hasTLS) rememberKeyGroup(client.ftp, server);
  // non-ASCII credentials: some servers only take them after UTF-8 is on (basic-ftp's reason too)
  if (!isAscii(server.username + server.password)) await client.sendIgnoringError('OPTS UTF8 ON');
  // FTPS: protected data connections (RFC 4217: PBSZ, then PROT)
  const protect = client.ftp.hasTLS ? ['PBSZ 0', 'PROT P'] : [];
  // USER, PASS, FEAT and the settings in one flight (login-pipeline.ts), or one at a time on a
  // server where that got no answer. `OPTS MLST` goes before FEAT's reply says whether the
  // server has MLST: one without it refuses it (ignored).
  stage.pipelining = server.login.pipelined;
  const login = await pipelinedLogin(
    client.ftp,
    server.username,
    server.password,
    ['TYPE I', 'OPTS UTF8 ON', OPTS_MLST, ...protect],
    ['TYPE I', ...protect],
    !server.login.pipelined,
  );
  stage.pipelining = false;
  client.availableListCommands = login.mlsd ? ['MLSD', 'LIST -a', 'LIST'] : ['LIST -a', 'LIST'];
  // a setting that matters was refused (or the replies came out of order): again, alone, in order
  for (const [i, command] of login.resend.entries()) {
    if (i === 0) await client.send(command);
    else await client.sendIgnoringError(command);
  }
  return greeting.message;
}

/** The ECDH groups Node's OpenSSL offers by default ('auto'), in its order. */
const DEFAULT_GROUPS = ['X25519', 'prime256v1', 'X448', 'secp521r1', 'secp384r1'];

/**
 * A TLS 1.3 client sends a key share for one group only, the first it offers (X25519). A server
 * that takes another answers with a HelloRetryRequest: one more round trip on every handshake,
 * the data connections' resumed ones included (they still run a key exchange, psk_dhe_ke).
 * vsftpd 3.0 takes only P-256: that is a round trip per file. So the group a server chose is
 * offered first on its later connections. A group set by the user (`tls.ecdhCurve`) is kept.
 */
function keyGroups(server: ResolvedServer): { ecdhCurve?: string } {
  const chosen = server.tlsGroup.chosen;
  if (chosen === undefined || server.tls?.ecdhCurve !== undefined) return {};
  return { ecdhCurve: [chosen, ...DEFAULT_GROUPS.filter((g) => g !== chosen)].join(':') };
}

/** Notes the group of the control connection's handshake, for its data connections and the next logins. */
function rememberKeyGroup(ftp: FTPContext, server: ResolvedServer): void {
  const key = (ftp.socket as TLSSocket).getEphemeralKeyInfo();
  const name = key !== null && 'name' in key ? key.name : undefined;
  if (name === undefined || !DEFAULT_GROUPS.includes(name)) return;
  server.tlsGroup.chosen = name;
  ftp.tlsOptions = { ...ftp.tlsOptions, ...keyGroups(server) };
}

function isAscii(text: string): boolean {
  return [...text].every((c) => c.charCodeAt(0) < 0x80);
}

/**
 * Our hooks on basic-ftp's command path, in one wrapper of `handle` and one of `send` (one
 * wrapper per hook cost a bound call, a try/finally and a promise per command, two commands per
 * file):
 *
 * - **Reply deadline**: every command must get its first reply line within `commandMs`.
 *   basic-ftp's timeout is a socket *idle* timeout: a server trickling a reply a byte at a time
 *   never trips it. The deadline runs from writing a task's command to its first reply (a 1xx
 *   counts: after `150` a transfer is watched by the data-stall watchdog instead), and closes the
 *   context with basic-ftp's own timeout error, so the pool sees an ordinary command timeout.
 *   It is armed in `send`, so a command basic-ftp refuses to write (control characters: the task
 *   is rejected at once) leaves no timer behind; every other way a task ends passes through its
 *   response handler (replies, and the error of a closing context), which disarms it.
 * - **No task stacks**: basic-ftp renders a stack trace for every command it sends
 *   (`new Error().stack`, kept only to enrich its "task while another one is still running"
 *   message, which our one-task-per-connection pool never triggers); rendering one was ~2 % of a
 *   loopback mirror's CPU. The task is created with stack traces off, restored at once.
 * - **Command count**: every command written to the control connection (pipelined ones too).
 */
function watchCommands(ftp: FTPContext, commandMs: number, sent: { commands: number }): void {
  const handle = ftp.handle.bind(ftp);
  const send = ftp.send.bind(ftp);
  let deadline: NodeJS.Timeout | undefined;
  // set by `handle` around its synchronous `send` of the task's command
  let armOnSend = false;
  const onDeadline = (): void => {
    deadline = undefined;
    ftp.closeWithError(new Error(`Timeout (control socket): no reply within ${commandMs} ms`));
  };
  const disarm = (): void => {
    if (deadline === undefined) return;
    clearTimeout(deadline);
    deadline = undefined;
  };
  ftp.send = (command) => {
    send(command);
    sent.commands++;
    if (!armOnSend) return;
    armOnSend = false;
    deadline = setTimeout(onDeadline, commandMs);
  };
  ftp.handle = (command, responseHandler) => {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      if (command === undefined || commandMs <= 0) return handle(command, responseHandler);
      disarm();
      armOnSend = true;
      return handle(command, (res, task) => {
        disarm();
        responseHandler(res, task);
      });
    } finally {
      armOnSend = false;
      Error.stackTraceLimit = limit;
    }
  };
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

// SNI must not be an IP address (RFC 6066); Node warns when it is.
function tlsServerName(host: string): string | undefined {
  return /^[\d.]+$/.test(host) || host.includes(':') ? undefined : host;
}

/**
 * Tries each passive mode in order and keeps the first that works (as basic-ftp does). Until one
 * has worked, the data connection is awaited (a failing connect moves on to the next mode);
 * afterwards the kept mode connects early (see connectData) and may be prefetched.
 */
function firstWorking(modes: PassiveMode[], client: Client): (ftp: FTPContext) => Promise<FTPResponse> {
  return async (ftp) => {
    let lastError: unknown;
    for (const mode of modes) {
      try {
        const res = await enterPassive(ftp, mode, false);
        client.prepareTransfer = (ctx) => enterPassive(ctx, mode, true);
        usePassiveCommand(ftp, mode.command);
        return res;
      } catch (err) {
        lastError = err;
        if (ftp.closed) break;
      }
    }
    throw lastError;
  };
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_NOT_YET_VALID',
]);

/**
 * Maps anything thrown by basic-ftp or a socket to our error tiers: a reply error (the
 * connection stays usable) or a socket/timeout/TLS error (the connection must be replaced).
 */
/** `idleTimeoutMs`: basic-ftp's socket timeout (our commandMs), named in timeout messages. */
export function toFtpError(err: unknown, ctx: FtpErrorContext, idleTimeoutMs = 0): FtpError {
  if (err instanceof FtpError) return err;
  if (err instanceof FTPError) {
    const reply = err as unknown as { code: number; message: string };
    const text = reply.message.replace(/^\d{3}[ -]?/, '');
    return new FtpReplyError(reply.code, text, ctx, { cause: err });
  }
  const e: NodeJS.ErrnoException = err instanceof Error ? err : new Error(String(err));
  const code = e.code ?? '';
  if (TLS_CODES.has(code) || /certificate|self[- ]signed/i.test(e.message)) {
    return new FtpTlsError(`certificate refused (${code || e.message})`, ctx, { cause: e });
  }
  if (/^Timeout/i.test(e.message)) {
    const phase = /data socket|data connection/i.test(e.message) ? 'data' : 'command';
    return new FtpTimeoutError(phase, idleTimeoutMs, ctx, { cause: e });
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH') {
    return new FtpConnectError(`${code} ${e.message}`, ctx, { cause: e });
  }
  return new FtpSocketError(e.message, ctx, { cause: e });
}

/** True when the error leaves the connection usable (the server just said no). */
export function keepsConnection(err: unknown): boolean {
  return err instanceof FtpReplyError;
}
