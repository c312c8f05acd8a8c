/**
 * Events per minute over a sliding window: how the daemon measures its own server load (listings,
 * commands) and its callback rate. Bounded: one slot per second of the window.
 */
export class RateWindow {
  readonly #windowMs: number;
  readonly #slotMs = 1000;
  /** Counts per slot, indexed by slot number modulo the slot count. */
  readonly #counts: number[];
  readonly #slotOf: number[];

  constructor(windowMs = 60_000) {
    this.#windowMs = windowMs;
    const slots = Math.max(1, Math.ceil(windowMs / this.#slotMs));
    this.#counts = new Array<number>(slots).fill(0);
    this.#slotOf = new Array<number>(slots).fill(-1);
  }

  add(n: number, now: number): void {
    const slot = Math.floor(now / this.#slotMs);
    const i = slot % this.#counts.length;
    if (this.#slotOf[i] !== slot) {
      this.#slotOf[i] = slot;
      this.#counts[i] = 0;
    }
    this.#counts[i] = (this.#counts[i] ?? 0) + n;
  }

  /** Events in the window ending at `now`. */
  total(now: number): number {
    const newest = Math.floor(now / this.#slotMs);
    const oldest = newest - this.#counts.length + 1;
    let sum = 0;
    this.#slotOf.forEach((slot, i) => {
      if (slot >= oldest && slot <= newest) sum += this.#counts[i] ?? 0;
    });
    return sum;
  }

  /** Events per minute, from the window ending at `now` (`since`: when counting began). */
  perMinute(now: number, since: number): number {
    const span = Math.min(this.#windowMs, Math.max(1000, now - since));
    return (this.total(now) * 60_000) / span;
  }
}

/**
 * The per-minute rate of a counter that only grows (the FTP client's commands sent), from samples
 * of its value: one a second at most, kept for a window and one sample beyond it.
 */
export class CounterRate {
  readonly #windowMs: number;
  /** [time, value], oldest first. */
  readonly #samples: [number, number][] = [];

  constructor(now: number, value: number, windowMs = 60_000) {
    this.#windowMs = windowMs;
    this.#samples.push([now, value]);
  }

  /** Records the counter's value now. */
  sample(now: number, value: number): void {
    const last = this.#samples.at(-1);
    if (
      this.#samples.length > 1 &&
      last !== undefined &&
      Math.floor(last[0] / 1000) === Math.floor(now / 1000)
    ) {
      // (the first sample stays: it is where the count began)
      last[0] = now;
      last[1] = value;
    } else {
      this.#samples.push([now, value]);
    }
    // Keep one sample at or before the window start: the rate spans the whole window.
    while (this.#samples.length > 2 && (this.#samples[1]?.[0] ?? now) <= now - this.#windowMs) {
      this.#samples.shift();
    }
  }

  /** Increase per minute over the window ending now (over less while younger than the window). */
  perMinute(now: number, value: number): number {
    this.sample(now, value);
    const [t0, v0] = this.#samples[0] ?? [now, value];
    return ((value - v0) * 60_000) / Math.max(1000, now - t0);
  }
}
