/**
 * The next transfer's EPSV/PASV, sent while the running transfer's data still flows.
 *
 * Per file a transfer costs EPSV (one round trip), then the data connection's handshake (RETR
 * rides along, see ../connection.ts connectData), then the data. Sent as soon as a transfer starts
 * (its `150`), the next EPSV is answered right after the `226`, so the next transfer connects at
 * once: one round trip less per file (about 50 ms on a 50 ms link, ~8 % of a 5-connection mirror
 * of radar files).
 *
 * Only on servers known to queue a command that arrives during a transfer and answer it after
 * the `226`. Tested on the servers the test suite runs (test/ftp/passive-prefetch.test.ts):
 *   - vsftpd 3.0: does not read the control connection during a transfer: `226`, then `229`.
 *     Allowed.
 *   - ProFTPD 1.3: polls the control connection while it sends and answers `450 EPSV: data
 *     transfer in progress` before the `226` (when the transfer outlasts its send buffer: always
 *     on a WAN). Not allowed.
 *   - Pure-FTPd 1.0: answers `500 Unknown command` during the transfer, before the `226`. Not
 *     allowed.
 *   - pyftpdlib, ftp-srv: act on the command while the transfer runs (a LIST or RETR then times
 *     out). Not allowed.
 * The server is told by its greeting; any other server keeps one command at a time.
 *
 * basic-ftp runs one task at a time and drops replies no task waits for, so the reply is routed
 * here, beside its task model: once the transfer's final reply went by, the next final reply is
 * the prefetch's (a stray 229/227 is taken whenever it comes). A prefetch is used only by the next
 * transfer set-up on that connection, only if no command that may touch the server's passive
 * listener went out in between (SIZE, MDTM, STAT, REST and NOOP do not: state.ts KEEPS_PASSIVE)
 * and only while younger than MAX_AGE_MS; otherwise a fresh EPSV is sent (the old reply is out
 * of the way by then: commands are answered in order on these servers).
 */
import type { FTPContext, FTPResponse } from 'basic-ftp';
import { FTPError } from '../basic-ftp.js';
import { peekState, stateOf, watchCommands, type Prefetch, type PrefetchState } from './state.js';

/** A passive reply older than this is not used: the server may have dropped its listener. */
const MAX_AGE_MS = 5_000;

/** Greetings of servers that queue commands sent during a transfer (see above). */
const QUEUEING_SERVERS = /\bvsFTPd\b/i;

const isFinal = (code: number): boolean => code >= 200;

/** True when the server's greeting names a server that queues commands during transfers. */
export function queuesCommandsDuringTransfer(greeting: string): boolean {
  return QUEUEING_SERVERS.test(greeting);
}

/**
 * Installs the reply routing on one logged-in control connection. Prefetching starts once
 * `usePassiveCommand` names the command that works.
 */
export function enablePassivePrefetch(ftp: FTPContext): void {
  const shared = stateOf(ftp);
  const state: PrefetchState = { command: undefined, pending: undefined, used: 0 };
  shared.prefetch = state;
  const ctx = ftp as unknown as { _passToHandler(res: FTPResponse | Error): void };
  const pass = ctx._passToHandler.bind(ftp);
  ctx._passToHandler = (res) => {
    const code = res instanceof FTPError ? res.code : res instanceof Error ? undefined : res.code;
    const pf = state.pending;
    if (pf !== undefined && !pf.settled) {
      if (code === undefined) {
        pf.settle(res); // socket error or timeout: the session is over (passed on below)
      } else if (code === 229 || code === 227 || (pf.armed && isFinal(code))) {
        pf.settle(res);
        return;
      } else if (isFinal(code)) {
        pf.armed = true;
      }
    } else if ((code === 150 || code === 125) && state.command !== undefined && !ftp.closed) {
      // A transfer starts: ask for the next one's port now (answered after its 226).
      send(ftp, state, state.command);
    }
    pass(res);
  };
  // a command sent after the prefetch makes it stale (state.ts)
  watchCommands(ftp, shared);
}

/** The passive command that worked on this connection: prefetch it from now on. */
export function usePassiveCommand(ftp: FTPContext, command: 'EPSV' | 'PASV'): void {
  const state = peekState(ftp)?.prefetch;
  if (state !== undefined) state.command = command;
}

/**
 * True when this connection's next transfer would use a prefetched reply (see takePrefetched):
 * the pool leaves such a connection to the transfers.
 */
export function hasPrefetchedPassive(ftp: FTPContext): boolean {
  const pf = peekState(ftp)?.prefetch?.pending;
  return pf !== undefined && !pf.stale && Date.now() - pf.sentAt <= MAX_AGE_MS;
}

/** Transfers on this connection that used a prefetched passive reply. */
export function prefetchesUsed(ftp: FTPContext): number {
  return peekState(ftp)?.prefetch?.used ?? 0;
}

function send(ftp: FTPContext, state: PrefetchState, command: string): void {
  let settle: (reply: FTPResponse | Error) => void = () => undefined;
  const reply = new Promise<FTPResponse | Error>((resolve) => (settle = resolve));
  const pf: Prefetch = {
    command,
    sentAt: Date.now(),
    armed: false,
    stale: false,
    settled: false,
    reply,
    settle: (r) => {
      pf.settled = true;
      settle(r);
    },
  };
  state.pending = pf;
  try {
    ftp.send(command);
  } catch {
    state.pending = undefined;
  }
}

/**
 * The prefetched reply to `command` when the transfer being set up now may use it, else
 * undefined (send a fresh one). Waits for a reply still in flight, at most `timeoutMs`: it must be
 * out of the way before another command goes out. After a timeout the session is closed.
 */
export async function takePrefetched(
  ftp: FTPContext,
  command: string,
  timeoutMs: number,
): Promise<FTPResponse | undefined> {
  const state = peekState(ftp)?.prefetch;
  const pf = state?.pending;
  if (state === undefined || pf === undefined) return undefined;
  // stays pending (its reply routed to it) until it settles, then is used at most once
  let reply: FTPResponse | Error;
  try {
    reply = await replyOf(ftp, pf, timeoutMs);
  } finally {
    if (state.pending === pf) state.pending = undefined;
  }
  if (reply instanceof Error || pf.stale || pf.command !== command) return undefined;
  if (Date.now() - pf.sentAt > MAX_AGE_MS || reply.code !== (command === 'EPSV' ? 229 : 227))
    return undefined;
  state.used++;
  return reply;
}

/**
 * Resolves once this connection's prefetched reply, if one is on its way, has come (it stays
 * for the next transfer), at most `timeoutMs`; after a timeout the session is closed and this
 * rejects. For a command that reads its replies raw (STAT, ../control-listing.ts): sent before
 * that reply came, it would read the reply as the start of its own, and the prefetch would take
 * the command's final reply for its own (the command then waited until the command timeout).
 */
export async function prefetchArrived(ftp: FTPContext, timeoutMs: number): Promise<void> {
  const pf = peekState(ftp)?.prefetch?.pending;
  if (pf !== undefined && !pf.settled) await replyOf(ftp, pf, timeoutMs);
}

/** The prefetch's reply, waited for at most `timeoutMs` (then the session is closed: rejects). */
async function replyOf(ftp: FTPContext, pf: Prefetch, timeoutMs: number): Promise<FTPResponse | Error> {
  if (pf.settled) return pf.reply;
  let timer: NodeJS.Timeout | undefined;
  const reply = await Promise.race([
    pf.reply,
    new Promise<Error>((resolve) => {
      timer = setTimeout(
        () => resolve(new Error(`Timeout (control socket): no reply to the prefetched ${pf.command}`)),
        timeoutMs,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  if (!pf.settled) {
    const err = reply instanceof Error ? reply : new Error('prefetched reply lost');
    ftp.closeWithError(err);
    throw err;
  }
  return reply;
}
