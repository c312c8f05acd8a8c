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
 * the early hand-off (gate.ts); only the control connections double (said in the docs and the bench).
 *
 * The early hand-off (a slot freed about one lag before its transfer's data ends) and the
 * per-connection gate that takes and gives back the slots are in gate.ts.
 */

/** How many data transfers were in flight, for benchmarks and debug logs. */
export interface DataSlotStats {
  limit: number;
  /** Most transfers in flight at once (RETR to the end of its data, early hand-off included). */
  peak: number;
  /** Time-weighted mean of transfers in flight, from the first slot taken to the last data end. */
  mean: number;
  /** Transfers whose slot was handed on before their data ended (the early hand-off: gate.ts). */
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
