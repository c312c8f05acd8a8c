/**
 * Data present bit-maps and the operators that use them (WMO FM 94 BUFR, table C: 2 22 000
 * quality information, 2 23 000 substituted values, 2 24 000 first-order statistics, 2 25 000
 * difference statistics, 2 32 000 replaced/retained values, 2 35 000 cancel backward reference,
 * 2 36 000 define a bit-map for reuse, 2 37 000 reuse it, 2 37 255 cancel reuse; regulation
 * 94.5.5 / 94.6.3 notes).
 *
 * A bit-map is a run of 0 31 031 elements following one of those operators. Bit j (0 = present)
 * refers to the j-th of the N data elements that end just before the first such operator since
 * the start of the subset or the last 2 35 000 (as ecCodes and BUFRDC count, ECC-243). Every
 * element read counts, class 31 included; operators and associated fields do not. The values
 * that follow (class 33 quality elements, the 2 xx 255 markers) refer, in order, to the elements
 * whose bit is 0.
 */

import {
  DATA_PRESENT_INDICATOR,
  FACTOR_DESCRIPTORS,
  isEventOperator,
  type ElementPlan,
} from './operators.js';

/** Operators that announce values related to the data by a bit-map. */
export const BITMAP_OPERATORS: ReadonlySet<number> = new Set([222000, 223000, 224000, 225000, 232000]);

/** Markers whose value is read with the referred element's plan. */
export const BITMAP_VALUE_MARKERS: ReadonlySet<number> = new Set([223255, 224255, 225255, 232255]);

/** All 2 22-2 37 descriptors, for the "does this message use bit-maps" scan. */
export function isBitmapDescriptor(code: number): boolean {
  return code >= 222000 && code <= 237255;
}

export interface BitmapTarget {
  /** Index of the referred element in the subset's item list. */
  item: number;
  plan: ElementPlan;
}

export class BitmapTracker {
  /** Item index and plan of every element read so far (the back-reference list). */
  private readonly elements: BitmapTarget[] = [];
  /** Elements counted before the first bit-map operator (since the start or 2 35 000). */
  private boundary: number | null = null;
  private collecting: number[] | null = null;
  private defining = false;
  private defined: BitmapTarget[] | null = null;
  private current: BitmapTarget[] | null = null;
  private next = 0;
  /** The operator whose values are being read (222000, 223000, ...), 0 when none. */
  private mode = 0;

  /**
   * Records an element read at `item` with `plan`. A 0 31 031 right after a bit-map operator is a
   * bit of the bit-map (`value` its bit); a replication factor may come before the bits.
   */
  element(item: number, code: number, plan: ElementPlan, value: unknown): void {
    if (this.collecting !== null) {
      if (code === DATA_PRESENT_INDICATOR) this.collecting.push(value === 0 ? 0 : 1);
      else if (this.collecting.length > 0 || !FACTOR_DESCRIPTORS.has(code)) this.finish();
    }
    this.elements.push({ item, plan });
  }

  /**
   * A 2 22-2 37 operator, or a 2 41-2 43 event marker. Throws a message for the caller to wrap
   * when the data are wrong.
   */
  operator(code: number): void {
    // 2 36 000 comes between the announcing operator and the bits; it does not end the bit-map.
    if (this.collecting !== null && this.collecting.length > 0) this.finish();
    if (isEventOperator(code)) {
      // A bit-map is the run of 0 31 031 right after its operator: an event marker ends it, and
      // 0 31 031 after the marker are the event's own values, not bits of an earlier bit-map.
      this.collecting = null;
      return;
    }
    if (BITMAP_OPERATORS.has(code)) {
      this.boundary ??= this.elements.length;
      this.mode = code;
      this.current = null;
      this.collecting = [];
    } else if (code === 235000) {
      this.boundary = null;
      this.current = null;
      this.defined = null;
      this.mode = 0;
    } else if (code === 236000) {
      this.defining = true;
    } else if (code === 237000) {
      if (this.defined === null) throw new Error('2 37 000 reuses a bit-map but none was defined (2 36 000)');
      this.collecting = null;
      this.current = this.defined;
      this.next = 0;
    } else if (code === 237255) {
      this.defined = null;
    }
  }

  /**
   * The element the value of `code` refers to: class 33 elements after 2 22 000 and the 2 xx 255
   * markers take the elements whose bit is 0, in order. `null` when `code` is not related to a
   * bit-map in force.
   */
  related(code: number): BitmapTarget | null {
    if (code === DATA_PRESENT_INDICATOR || FACTOR_DESCRIPTORS.has(code)) return null;
    if (this.collecting !== null && this.collecting.length > 0) this.finish();
    const quality = this.mode === 222000 && Math.floor(code / 1000) === 33;
    if (this.current === null || !(quality || BITMAP_VALUE_MARKERS.has(code))) return null;
    const t = this.current[this.next];
    if (t === undefined) {
      // Class 33 elements after the last present bit are ordinary data.
      if (quality) return null;
      throw new Error(`more related values than the ${this.current.length} present bits`);
    }
    this.next++;
    return t;
  }

  private finish(): void {
    const bits = this.collecting ?? [];
    this.collecting = null;
    if (bits.length === 0) return;
    const end = this.boundary ?? this.elements.length;
    const start = end - bits.length;
    if (start < 0) throw new Error(`the bit-map has ${bits.length} bits but only ${end} elements precede it`);
    const targets: BitmapTarget[] = [];
    bits.forEach((b, j) => {
      if (b === 0) targets.push(this.elements[start + j] as BitmapTarget);
    });
    if (this.defining) {
      this.defined = targets;
      this.defining = false;
    }
    this.current = targets;
    this.next = 0;
  }
}
