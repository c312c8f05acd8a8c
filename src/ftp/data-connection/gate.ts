/**
 * Which transfers take a data slot (slots.ts), when they take it and when they give it back.
 *
 * Early hand-off: what a slot's next file still pays after its RETR is the *lag* from RETR to its
 * first byte, one round trip in plain FTP and three in FTPS on ProFTPD (it sends the first byte
 * only after the client's TLS Finished, and the first 16 KB record completes a flight later:
 * docs/PERFORMANCE.md, sessions 5 and 6), during which the slot moves no data. When the
 * transfer's size is known (`expectDataBytes`), the slot is handed on once the bytes still to
 * come are fewer than what the next lag should bring at the recent rate: the next file's RETR
 * and handshake (no data) overlap this file's tail, and its first byte comes about when this
 * file's last one does. The lag is measured on the slots' own transfers (the median of the last
 * few); until one is measured nothing is handed on early. A transfer handed on still counts as in
 * flight until its data ends (the stats show the overlap).
 *
 * The gate is attached per control connection by the pool (transfers of a batch; never
 * listings), and the slot taken in the passive set-up (index.ts `openDataConnection`) once the
 * data connection is under way (between two tasks basic-ftp does not time the idle control
 * connection, so a long wait for a slot is no command timeout). A slot is given back when the
 * data ends, or when the transfer command's task settles (a refused RETR: basic-ftp leaves the
 * unused data socket open until the next transfer, which would wait for this very slot),
 * whichever comes first.
 */
import type { Socket } from 'node:net';
import type { FTPContext } from 'basic-ftp';
import type { DataSlot, DataSlots } from './slots.js';
import { peekState, stateOf, watchCommands } from './state.js';

/** Transfers on this control connection take a slot of `slots` (undefined: no gate). */
export function gateTransfers(ftp: FTPContext, slots: DataSlots | undefined): void {
  const gate = peekState(ftp)?.gate;
  if (gate !== undefined) {
    gate.slots = slots;
    gate.expected = undefined;
    return;
  }
  if (slots === undefined) return;
  const state = stateOf(ftp);
  state.gate = { slots, release: undefined, expected: undefined };
  // the slot goes back when the transfer command's task settles (state.ts)
  watchCommands(ftp, state);
}

/**
 * The next transfer on this connection brings `bytes` of data (a download: the listed size less
 * any REST offset); lets its slot be handed on early (see above). Call before its passive set-up;
 * a connection without a gate ignores it.
 */
export function expectDataBytes(ftp: FTPContext, bytes: number): void {
  const gate = peekState(ftp)?.gate;
  if (gate !== undefined) gate.expected = bytes;
}

/**
 * Waits for a data slot when this connection's transfers are gated; call once the data
 * connection (`ftp.dataSocket`) is under way and before the transfer command goes out. The slot
 * is held until that socket ends or closes, or handed on early when the transfer's size is known.
 * A socket that closes while waiting ends the wait: the transfer then fails on the closed socket,
 * as it would without a gate.
 */
export async function holdDataSlot(ftp: FTPContext): Promise<void> {
  const gate = peekState(ftp)?.gate;
  const slots = gate?.slots;
  const socket = ftp.dataSocket as Socket | undefined;
  const expected = gate?.expected;
  if (gate !== undefined) gate.expected = undefined;
  if (gate === undefined || slots === undefined || socket === undefined || socket.destroyed) return;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const slot = await slots.acquire(closed);
  if (slot === undefined) return;
  if (socket.destroyed) {
    slot.release();
    return;
  }
  socket.once('end', slot.release);
  socket.once('close', slot.release);
  gate.release = slot.release;
  if (expected !== undefined && expected > 0) watchTail(socket, expected, slot, slots);
}

/**
 * Bytes `lag` ms bring at the rate of the polls in the last `within` ms; 0 while those polls span
 * less than half of it.
 */
function comingAt(
  window: readonly { at: number; bytes: number }[],
  now: number,
  bytes: number,
  within: number,
  lag: number,
): number {
  const oldest = window.find((p) => p.at >= now - within);
  if (oldest === undefined) return 0;
  const span = now - oldest.at;
  return span >= within / 2 ? ((bytes - oldest.bytes) * lag) / span : 0;
}

/** How often a transfer holding a slot is looked at (ms): a fraction of the lag, within bounds. */
const POLL_MIN_MS = 5;
const POLL_MAX_MS = 25;
const POLLS_PER_LAG = 8;

/**
 * Measures the transfer's lag (slot to first byte) and hands its slot on once the bytes still to
 * come are fewer than what the next lag brings at the recent rate (of the last lag or of its
 * second half, the higher: a transfer in TCP slow start speeds up, and a rate that lags behind
 * hands on late, never early; with FTPS the lag is three round trips on a WAN, the last of them
 * the first 16 KB TLS record). Reads the socket's byte count (decrypted bytes for TLS) on a
 * timer: no listener on the data itself, which the download reads. Stops at the hand-off or when
 * the socket ends or closes.
 */
function watchTail(socket: Socket, expected: number, slot: DataSlot, slots: DataSlots): void {
  const takenAt = performance.now();
  let measured = false;
  /** (time, bytes) of the polls within the last lag, oldest first. */
  const window: { at: number; bytes: number }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    clearTimeout(timer);
    timer = undefined;
    socket.off('end', stop);
    socket.off('close', stop);
  };
  const poll = (): void => {
    timer = undefined;
    const now = performance.now();
    const bytes = socket.bytesRead;
    if (!measured && bytes > 0) {
      measured = true;
      slots.noteLag(now - takenAt);
    }
    const lag = slots.lag;
    if (measured && lag !== undefined) {
      window.push({ at: now, bytes });
      while (window.length > 1 && (window[0]?.at ?? now) < now - lag) window.shift();
      // bytes the next lag should bring: at the rate of the last lag or of its second half,
      // whichever is higher (a transfer in slow start speeds up), none before half a lag is seen
      const coming = Math.max(
        comingAt(window, now, bytes, lag, lag),
        comingAt(window, now, bytes, lag / 2, lag),
      );
      if (expected - bytes <= coming) {
        stop();
        slot.handOff();
        return;
      }
    }
    const every = lag === undefined ? POLL_MIN_MS : lag / POLLS_PER_LAG;
    timer = setTimeout(poll, Math.min(POLL_MAX_MS, Math.max(POLL_MIN_MS, every)));
  };
  socket.once('end', stop);
  socket.once('close', stop);
  timer = setTimeout(poll, POLL_MIN_MS);
}
