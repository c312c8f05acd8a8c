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
