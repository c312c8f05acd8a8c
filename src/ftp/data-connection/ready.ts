/**
 * The next transfer's passive data connection, opened on an idle control connection before the
 * transfer is known.
 *
 * A transfer on a fresh control connection costs EPSV (one round trip), then the data
 * connection's handshake (one more: the server serves the command only once its side of the
 * handshake is done), then the reply and the data. On a 50 ms link a folder listing is ~3 round
 * trips, and a radar date tree (`/L2/RADAR/YYYY/MM/DD/HH/MMSS`) is seven levels listed one after
 * another. While a walk runs, the pool has connections waiting for the next folder: each sends
 * EPSV and opens the data connection meanwhile, so the next listing (or RETR) on it is one round
 * trip: command out, data and `226` back.
 *
 * Safe on every server because nothing is sent during a transfer: the EPSV goes out on an idle
 * connection, and the data connection waits for the command as it does for a moment after every
 * EPSV (servers such as vsftpd, ProFTPD and Pure-FTPd accept it only when the command comes;
 * pyftpdlib and ftp-srv accept at once and wait for the command). What is not safe everywhere is
 * dropping a prepared data connection and going on: a server that already accepted it may answer
 * its close on the control connection, unasked. So a prepared connection is used by its next
 * transfer or, left idle longer than READY_MAX_AGE_MS (well inside every server's passive
 * timeout: pyftpdlib 30 s unconnected, 300 s connected), closed whole by the pool, except on the
 * servers known to accept the data connection only with the transfer command (told by their
 * greeting): there dropping our side is never seen by the server (its next EPSV replaces the
 * listener) and the control connection is kept, as a daemon polling every minute needs.
 */
import type { Socket } from 'node:net';
import type { Client, FTPContext, FTPResponse } from 'basic-ftp';
import { peekState, stateOf } from './state.js';

/** A prepared connection left idle this long is closed by the pool rather than kept. */
export const READY_MAX_AGE_MS = 5_000;

/**
 * Greetings of servers that accept a passive data connection only when the transfer command
 * comes (test/ftp/walk-ready.test.ts): vsftpd, ProFTPD, Pure-FTPd.
 */
const ACCEPTS_ON_COMMAND = /\b(vsFTPd|ProFTPD|Pure-FTPd)\b/i;

/** Records, from the server's greeting, whether an unused data connection may be dropped alone. */
export function noteAcceptsOnCommand(ftp: FTPContext, greeting: string): void {
  if (ACCEPTS_ON_COMMAND.test(greeting)) stateOf(ftp).acceptsOnCommand = true;
}

/**
 * Gives up the prepared data connection and keeps the control connection, where the server
 * never saw it (see above). False (nothing done) elsewhere: close the connection instead.
 */
export function dropReadyPassive(ftp: FTPContext): boolean {
  const state = peekState(ftp);
  if (state?.acceptsOnCommand !== true || state.ready === undefined) return false;
  state.ready = undefined;
  // basic-ftp's setter closes the socket it replaces
  ftp.dataSocket = undefined;
  return true;
}

/**
 * Runs the connection's passive set-up now (its EPSV/PASV strategy, ../connection.ts) and keeps
 * the reply for the next transfer. Rejects as the set-up does; the caller decides what a failure
 * means for the connection.
 */
export async function preparePassive(client: Client): Promise<void> {
  const ftp = client.ftp;
  if (hasReadyPassive(ftp)) return;
  const reply = await client.prepareTransfer(ftp);
  stateOf(ftp).ready = { reply, socket: ftp.dataSocket as Socket | undefined };
}

/** True when the next transfer on this connection will use a prepared data connection. */
export function hasReadyPassive(ftp: FTPContext): boolean {
  return peekState(ftp)?.ready !== undefined;
}

/**
 * For the transfer being set up now: the prepared passive reply, when its data connection is
 * still the current one; else undefined (set up as usual). Used at most once.
 */
export function takeReadyPassive(ftp: FTPContext): FTPResponse | undefined {
  const state = peekState(ftp);
  const r = state?.ready;
  if (state === undefined || r === undefined) return undefined;
  state.ready = undefined;
  const socket = ftp.dataSocket as Socket | undefined;
  if (socket === undefined || socket !== r.socket || socket.destroyed) return undefined;
  return r.reply;
}
