/**
 * What one control connection (a basic-ftp `FTPContext`) knows about its next data connection:
 * one object per context, holding the part of each job that applies to it (prefetch.ts, ready.ts,
 * gate.ts), and the one hook on the context's commands that those jobs share.
 */
import type { Socket } from 'node:net';
import type { FTPContext, FTPResponse } from 'basic-ftp';
import type { DataSlots } from './slots.js';

/** An EPSV/PASV sent during a transfer, its reply routed here (prefetch.ts). */
export interface Prefetch {
  command: string;
  sentAt: number;
  /** The running transfer's final reply went by: the next final reply is ours. */
  armed: boolean;
  /**
   * A command that may touch the passive listener went out after it (see KEEPS_PASSIVE): not
   * used (its reply is still taken out of the way).
   */
  stale: boolean;
  settled: boolean;
  reply: Promise<FTPResponse | Error>;
  settle: (reply: FTPResponse | Error) => void;
}

/** Prefetching on a server that queues commands sent during a transfer (prefetch.ts). */
export interface PrefetchState {
  /** EPSV or PASV, whichever set up the connection's transfers; undefined: no prefetch yet. */
  command: string | undefined;
  pending: Prefetch | undefined;
  /** Transfers that used a prefetched reply (tests, benchmarks). */
  used: number;
}

/** A passive data connection opened while the control connection was idle (ready.ts). */
export interface Ready {
  reply: FTPResponse;
  socket: Socket | undefined;
}

/** The data-slot cap this connection's transfers take part in (gate.ts). */
export interface Gate {
  slots: DataSlots | undefined;
  /** The slot taken by the set-up, given back when the next command's task settles. */
  release: (() => void) | undefined;
  /** Data bytes the next transfer will bring (`expectDataBytes`); undefined: unknown. */
  expected: number | undefined;
}

export interface DataConnectionState {
  /** Set on servers that queue commands during a transfer (told by the greeting). */
  prefetch: PrefetchState | undefined;
  ready: Ready | undefined;
  /**
   * The server accepts a passive data connection only when the transfer command comes (told by
   * the greeting): an unused one may be dropped alone (ready.ts).
   */
  acceptsOnCommand: boolean;
  gate: Gate | undefined;
  /** `ftp.handle` is wrapped (watchCommands). */
  watching: boolean;
}

const states = new WeakMap<FTPContext, DataConnectionState>();

/** This connection's state, created on first use. */
export function stateOf(ftp: FTPContext): DataConnectionState {
  let state = states.get(ftp);
  if (state === undefined) {
    state = {
      prefetch: undefined,
      ready: undefined,
      acceptsOnCommand: false,
      gate: undefined,
      watching: false,
    };
    states.set(ftp, state);
  }
  return state;
}

/** This connection's state if any job ever used it (a read that must not create one). */
export function peekState(ftp: FTPContext): DataConnectionState | undefined {
  return states.get(ftp);
}

/**
 * Commands that leave the server's passive listener alone: a prefetched reply stays good across
 * them (prefetch.ts; vsftpd, the one server prefetched on, replaces or uses its listener only on
 * EPSV/PASV/PORT and the transfer commands, and answers in order, so their replies come after the
 * prefetch's). They are what goes out on a pooled connection between transfers: SIZE and MDTM
 * (`checkFileExists`, `lastModified`, a download's size), STAT with its REST sentinels (a walk's
 * folders, ../control-listing.ts) and NOOP (the pool's health check). Before, any of them made
 * the prefetch stale: its EPSV was wasted and the next transfer sent a fresh one (vsftpd, a SIZE
 * on the one idle connection while the others still logged in: test/ftp/pool-prefetch.test.ts).
 */
const KEEPS_PASSIVE = /^(SIZE|MDTM|STAT|REST|NOOP)\b/i;

/**
 * Wraps `ftp.handle` once, for the two jobs that must see every command as it goes out: a prefetch
 * is not used once a command that may touch the server's passive listener went out after it (see
 * KEEPS_PASSIVE), and a data slot taken by the set-up is given back when the transfer command's task
 * settles (a refused RETR leaves the unused data socket open until the next transfer, which
 * would wait for this very slot). The command after the set-up is the transfer's (RETR; REST
 * first when resuming, whose 350 leads to the RETR inside the same task).
 */
export function watchCommands(ftp: FTPContext, state: DataConnectionState): void {
  if (state.watching) return;
  state.watching = true;
  const handle = ftp.handle.bind(ftp);
  ftp.handle = (command, responseHandler) => {
    if (command === undefined) return handle(command, responseHandler);
    const pending = state.prefetch?.pending;
    if (pending !== undefined && !KEEPS_PASSIVE.test(command)) pending.stale = true;
    const release = state.gate?.release;
    if (state.gate !== undefined) state.gate.release = undefined;
    const task = handle(command, responseHandler);
    if (release !== undefined) task.then(release, release);
    return task;
  };
}
