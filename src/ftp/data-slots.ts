/**
 * A cap on data transfers in flight, apart from the control connections that set them up.
 *
 * On a long link every file costs EPSV (one round trip) and the data connection's handshake (one
 * more) before its first byte; a server such as ProFTPD refuses the next EPSV while a transfer
 * runs on the same control connection (450), so those round trips cannot overlap the previous
 * file there. A batch with `overlapSetup` therefore gives each transfer slot a second control
 * connection: while one connection's file arrives, the other asks for the next port and opens
 * the next data connection, then waits here for a slot; the moment the running file's data ends,
 * its RETR goes out and the next bytes follow one round trip later. The slots count data
 * transfers from RETR to the end of their data, so the batch never has more files in flight
 * than `maxConcurrent`; only the control connections double (said in the docs and the bench).
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
  /** Most transfers in flight at once. */
  peak: number;
  /** Time-weighted mean of transfers in flight, from the first slot taken to the last given back. */
  mean: number;
}

export class DataSlots {
  readonly limit: number;
  #inUse = 0;
  #peak = 0;
  readonly #waiters: (() => void)[] = [];
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
    return { limit: this.limit, peak: this.#peak, mean: span > 0 ? this.#area / span : 0 };
  }

  /**
   * Resolves once a slot is free (first come, first served) with the function that gives it
   * back (idempotent). `cancelled` settles early: the waiter leaves the queue and gets no slot.
   */
  acquire(cancelled: Promise<void>): Promise<(() => void) | undefined> {
    if (this.#inUse < this.limit) return Promise.resolve(this.#take());
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

  #take(): () => void {
    this.#count(+1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.#count(-1);
      this.#waiters.shift()?.();
    };
  }

  #count(delta: number): void {
    const now = performance.now();
    this.#firstAt ??= now;
    this.#area += this.#inUse * (now - this.#lastAt);
    this.#lastAt = now;
    this.#inUse += delta;
    this.#peak = Math.max(this.#peak, this.#inUse);
  }
}

interface Gate {
  slots: DataSlots | undefined;
  /** The slot taken by the set-up, given back when the next command's task settles. */
  release: (() => void) | undefined;
}

const gates = new WeakMap<FTPContext, Gate>();

/** Transfers on this control connection take a slot of `slots` (undefined: no gate). */
export function gateTransfers(ftp: FTPContext, slots: DataSlots | undefined): void {
  const gate = gates.get(ftp);
  if (gate !== undefined) {
    gate.slots = slots;
    return;
  }
  if (slots === undefined) return;
  gates.set(ftp, { slots, release: undefined });
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
 * Waits for a data slot when this connection's transfers are gated; call once the data
 * connection (`ftp.dataSocket`) is under way and before the transfer command goes out. The slot
 * is held until that socket ends or closes. A socket that closes while waiting ends the wait:
 * the transfer then fails on the closed socket, as it would without a gate.
 */
export async function holdDataSlot(ftp: FTPContext): Promise<void> {
  const gate = gates.get(ftp);
  const slots = gate?.slots;
  const socket = ftp.dataSocket as Socket | undefined;
  if (gate === undefined || slots === undefined || socket === undefined || socket.destroyed) return;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const release = await slots.acquire(closed);
  if (release === undefined) return;
  if (socket.destroyed) {
    release();
    return;
  }
  socket.once('end', release);
  socket.once('close', release);
  gate.release = release;
}
