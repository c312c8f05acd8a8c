/**
 * A cap on data transfers in flight, apart from the control connections that set them up.
 *
 * On a long link every file costs EPSV (one round trip) and the data connection's handshake (one
 * more) before its first byte; a server such as ProFTPD refuses the next EPSV while a transfer
 * runs on the same control connection (450), so those round trips cannot overlap the previous
 * file there. A batch with `overlapSetup` therefore gives each transfer slot a second control
 * connection: while one connection's file arrives, the other asks for the next port and opens
 * the next data connection, then waits here for a slot. The slots count data transfers from RETR
 * to the end of their data, so the batch has at most `maxConcurrent` files in flight, apart from
 * the early hand-off below; only the control connections double (said in the docs and the bench).
 *
 * Early hand-off: what a slot's next file still pays after its RETR is the *lag* from RETR to its
 * first byte, one round trip in plain FTP and three in FTPS on ProFTPD (it sends the first byte
 * only after the client's TLS Finished, and the first 16 KB record completes a flight later:
 * docs/PERFORMANCE.md, sessions 5 and 6), during which the slot moves no data. When the
 * transfer's size is known (`expectDataBytes`), the slot is handed on once the bytes still to
 * come are fewer than what the next lag should bring at the recent rate: the next file's RETR
 * and handshake (no data) overlap this file's tail, and its first byte comes about when this
 * file's last one does. The lag is measured on the slots' own transfers (the median of the last few);
 * until one is measured nothing is handed on early. A transfer handed on still counts as in
 * flight until its data ends (the stats show the overlap).
 *
 * The gate is attached per control connection by the pool (transfers of a batch; never
 * listings), and taken in the passive set-up (connection.ts) once the data connection is under
 * way (between two tasks basic-ftp does not time the idle control connection, so a long wait
 * for a slot is no command timeout). A slot is given back when the data ends, or when the transfer command's task settles
 * (a refused RETR: basic-ftp leaves the unused data socket open until the next transfer, which
 * would wait for this very slot), whichever comes first.
 */
import type { Socket } from 'node:net';
import type { FTPContext } from 'basic-ftp';

/** How many data transfers were in flight, for benchmarks and debug logs. */
export interface DataSlotStats {
  limit: number;
  /** Most transfers in flight at once (RETR to the end of its data, early hand-off included). */
  peak: number;
  /** Time-weighted mean of transfers in flight, from the first slot taken to the last data end. */
  mean: number;
  /** Transfers whose slot was handed on before their data ended (see the early hand-off above). */
  handedOffEarly: number;
}

/** One transfer's hold on a slot. */
export interface DataSlot {
  /** Frees the slot for the next transfer; this one still counts as in flight (idempotent). */
  handOff(): void;
  /** The transfer's data ended (or it failed): frees the slot if still held (idempotent). */
  release(): void;
}

/** Lags (RETR to first byte) kept for the median. */
const LAGS_KEPT = 8;

export class DataSlots {
  readonly limit: number;
  /** Slots held (at most `limit`). */
  #held = 0;
  /** Transfers in flight: held, or handed on with their data still coming. */
  #inFlight = 0;
  #peak = 0;
  #handedOff = 0;
  readonly #waiters: (() => void)[] = [];
  readonly #lags: number[] = [];
  #firstAt: number | undefined;
  #lastAt = 0;
  #area = 0;

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`limit must be an integer >= 1, got ${limit}`);
    this.limit = limit;
  }

  get stats(): DataSlotStats {
    const span = this.#firstAt === undefined ? 0 : this.#lastAt - this.#firstAt;
    return {
      limit: this.limit,
      peak: this.#peak,
      mean: span > 0 ? this.#area / span : 0,
      handedOffEarly: this.#handedOff,
    };
  }

  /** Time from a slot's RETR to its first data byte (median of the last few); undefined: none yet. */
  get lag(): number | undefined {
    if (this.#lags.length === 0) return undefined;
    const sorted = [...this.#lags].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  }

  /** Records one transfer's lag from its slot to its first byte (ms). */
  noteLag(ms: number): void {
    this.#lags.push(ms);
    if (this.#lags.length > LAGS_KEPT) this.#lags.shift();
  }

  /**
   * Resolves once a slot is free (first come, first served) with the transfer's hold on it.
   * `cancelled` settles early: the waiter leaves the queue and gets no slot.
   */
  acquire(cancelled: Promise<void>): Promise<DataSlot | undefined> {
    if (this.#held < this.limit) return Promise.resolve(this.#take());
    return new Promise((resolve) => {
      const waiter = (): void => resolve(this.#take());
      this.#waiters.push(waiter);
      void cancelled.then(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i < 0) return;
        this.#waiters.splice(i, 1);
        resolve(undefined);
      });
    });
  }

  #take(): DataSlot {
    this.#held++;
    this.#count(+1);
    let held = true;
    let inFlight = true;
    const free = (): void => {
      if (!held) return;
      held = false;
      this.#held--;
      this.#waiters.shift()?.();
    };
    return {
      handOff: () => {
        if (!held || !inFlight) return;
        this.#handedOff++;
        free();
      },
      release: () => {
        if (!inFlight) return;
        inFlight = false;
        this.#count(-1);
        free();
      },
    };
  }

  #count(delta: number): void {
    const now = performance.now();
    this.#firstAt ??= now;
    this.#area += this.#inFlight * (now - this.#lastAt);
    this.#lastAt = now;
    this.#inFlight += delta;
    this.#peak = Math.max(this.#peak, this.#inFlight);
  }
}

interface Gate {
  slots: DataSlots | undefined;
  /** The slot taken by the set-up, given back when the next command's task settles. */
  release: (() => void) | undefined;
  /** Data bytes the next transfer will bring (`expectDataBytes`); undefined: unknown. */
  expected: number | undefined;
}

const gates = new WeakMap<FTPContext, Gate>();

/** Transfers on this control connection take a slot of `slots` (undefined: no gate). */
export function gateTransfers(ftp: FTPContext, slots: DataSlots | undefined): void {
  const gate = gates.get(ftp);
  if (gate !== undefined) {
    gate.slots = slots;
    gate.expected = undefined;
    return;
  }
  if (slots === undefined) return;
  gates.set(ftp, { slots, release: undefined, expected: undefined });
  // The command after the set-up is the transfer's (RETR; REST first when resuming, whose 350
  // leads to the RETR inside the same task): when its task settles, the slot is surely free.
  const handle = ftp.handle.bind(ftp);
  ftp.handle = (command, responseHandler) => {
    const own = gates.get(ftp);
    const release = command === undefined ? undefined : own?.release;
    if (own !== undefined && release !== undefined) own.release = undefined;
    const task = handle(command, responseHandler);
    if (release !== undefined) task.then(release, release);
    return task;
  };
}

/**
 * The next transfer on this connection brings `bytes` of data (a download: the listed size less
 * any REST offset); lets its slot be handed on early (see above). Call before its passive set-up;
 * a connection without a gate ignores it.
 */
export function expectDataBytes(ftp: FTPContext, bytes: number): void {
  const gate = gates.get(ftp);
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
  const gate = gates.get(ftp);
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
