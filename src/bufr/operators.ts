/**
 * Data description operators that change how elements are read (F = 2, WMO Manual on Codes
 * Vol. I.2, FM 94 BUFR, table C), as one explicit state object, and how that state turns a
 * table B entry into the width, scale and reference actually read.
 *
 * Here: 2 01, 2 02, 2 03, 2 04, 2 06, 2 07, 2 08 and 2 21. The operators that emit data or
 * refer back to it (2 05 character insert, 2 22-2 37 quality / statistics / bitmaps) and the
 * 2 41-2 43 event markers are handled by the walker (decoder.ts) with bitmap.ts. Editions 2, 3
 * and 4 read these operators alike.
 */

import { descriptorX, descriptorY } from './descriptors.js';
import type { ElementDef } from './tables/types.js';

/** Operator state; reset at the start of every subset. */
export interface DecodeState {
  /** 2 01 YYY: bits added to the width of numeric elements (YYY - 128). */
  widthDelta: number;
  /** 2 02 YYY: added to the scale of numeric elements (YYY - 128). */
  scaleDelta: number;
  /** 2 07 YYY: scale + YYY, reference * 10^YYY, width + (10 * YYY + 2) / 3. */
  increase: number;
  /** 2 08 YYY: width of CCITT IA5 fields in characters (0 = the table's width). */
  textChars: number;
  /** 2 03 YYY: while > 0, elements are new reference values of this many bits (not data). */
  newReferenceBits: number;
  /** 2 03: reference values redefined so far, by element; cleared by 2 03 000. */
  references: Map<number, number>;
  /** 2 04 YYY: widths of the associated fields in force (nested 2 04 add up; 2 04 000 pops). */
  associatedWidths: number[];
  /** 2 06 YYY: width of the next (local) element, `0` when not in force. */
  nextLocalWidth: number;
  /** 2 21 YYY: descriptors left whose data are not present. */
  notPresent: number;
}

export function newDecodeState(): DecodeState {
  return {
    widthDelta: 0,
    scaleDelta: 0,
    increase: 0,
    textChars: 0,
    newReferenceBits: 0,
    references: new Map(),
    associatedWidths: [],
    nextLocalWidth: 0,
    notPresent: 0,
  };
}

/** Total width of the associated field in force (2 04), 0 when none. */
export function associatedWidth(state: DecodeState): number {
  let w = 0;
  for (const x of state.associatedWidths) w += x;
  return w;
}

/** How one element is read under the current operators. */
export interface ElementPlan {
  width: number;
  scale: number;
  reference: number;
  text: boolean;
  /** All ones means missing (false for replication factors and data-present bits). */
  missing: boolean;
}

/** Delayed replication factors: never "missing" (0 31 000 / 001 / 002). */
export const FACTOR_DESCRIPTORS: ReadonlySet<number> = new Set([31000, 31001, 31002]);

/** 0 31 031: one bit of a data present bit-map (0 = data present). A value, never missing. */
export const DATA_PRESENT_INDICATOR = 31031;

/** 0 31 021: associated field significance, the first element after 2 04 YYY. */
export const ASSOCIATED_FIELD_SIGNIFICANCE = 31021;

/**
 * 2 41 000 / 2 41 255 (define event / cancel), 2 42 000 / 2 42 255 (define conditioning event /
 * cancel), 2 43 000 / 2 43 255 (categorical forecast values follow / cancel): FM 94 table C and
 * its notes (the operation stays defined until cancelled or until the end of the subset). They
 * only mark where the event's (or forecast's) elements start and end: no bits of their own, no
 * change to how the elements between them are read, whose descriptors follow as usual (a
 * 0 31 031 among them is an ordinary one-bit value). Other YYY are not defined.
 */
export function isEventOperator(code: number): boolean {
  const x = descriptorX(code);
  const y = descriptorY(code);
  return code >= 200000 && code < 300000 && x >= 41 && x <= 43 && (y === 0 || y === 255);
}

/**
 * Applies a state-changing operator `code`; `false` when `code` is not one of them.
 * Regulations cited are FM 94 BUFR table C and its notes.
 */
export function applyOperator(state: DecodeState, code: number): boolean {
  const y = descriptorY(code);
  switch (descriptorX(code)) {
    case 1:
      // 2 01 YYY: add YYY - 128 bits to the width of numeric elements; 2 01 000 cancels.
      state.widthDelta = y === 0 ? 0 : y - 128;
      return true;
    case 2:
      // 2 02 YYY: add YYY - 128 to the scale of numeric elements; 2 02 000 cancels.
      state.scaleDelta = y === 0 ? 0 : y - 128;
      return true;
    case 3:
      // 2 03 YYY: the elements that follow carry new YYY-bit reference values; 2 03 255 ends
      // the definitions (they stay in force); 2 03 000 restores the table's references.
      if (y === 255) state.newReferenceBits = 0;
      else if (y === 0) {
        state.newReferenceBits = 0;
        state.references.clear();
      } else state.newReferenceBits = y;
      return true;
    case 4:
      // 2 04 YYY: each following element (class 31 excepted) is preceded by a YYY-bit associated
      // field; nested 2 04 YYY add a field; 2 04 000 cancels the last one defined.
      if (y === 0) state.associatedWidths.pop();
      else state.associatedWidths.push(y);
      return true;
    case 6:
      // 2 06 YYY: the next element is a local descriptor YYY bits wide (skippable if unknown).
      state.nextLocalWidth = y;
      return true;
    case 7:
      // 2 07 YYY: increase scale, reference value and data width; 2 07 000 cancels.
      state.increase = y;
      return true;
    case 8:
      // 2 08 YYY: CCITT IA5 fields become YYY characters wide; 2 08 000 cancels.
      state.textChars = y;
      return true;
    case 21:
      // 2 21 YYY: data of the next YYY descriptors are not present (classes 1-9 and 31 excepted).
      state.notPresent = y;
      return true;
    default:
      return false;
  }
}

/** The width, scale and reference to read `def` with under `state`. */
export function elementPlan(def: ElementDef, state: DecodeState): ElementPlan {
  if (def.isText) {
    const width = state.textChars > 0 ? state.textChars * 8 : def.width;
    return { width, scale: 0, reference: 0, text: true, missing: true };
  }
  const reference = state.references.get(def.code) ?? def.reference;
  if (descriptorX(def.code) === 31 || def.isCodeOrFlag) {
    // Class 31 (replication factors, data present indicators) and code/flag tables are not
    // changed by 2 01 / 2 02 / 2 07 (FM 94 table C notes).
    return {
      width: def.width,
      scale: 0,
      reference,
      text: false,
      missing: !FACTOR_DESCRIPTORS.has(def.code) && def.code !== DATA_PRESENT_INDICATOR,
    };
  }
  const inc = state.increase;
  const width = def.width + state.widthDelta + (inc > 0 ? Math.floor((10 * inc + 2) / 3) : 0);
  const scale = def.scale + state.scaleDelta + inc;
  return {
    width,
    scale,
    reference: inc > 0 ? reference * 10 ** inc : reference,
    text: false,
    missing: true,
  };
}

/**
 * The plan for a 2 25 255 difference statistical value: the referred element's scale, width
 * n + 1 and reference -2^n (FM 94 table C, 2 25 000 note), so differences centre on zero.
 */
export function differencePlan(p: ElementPlan): ElementPlan {
  return { ...p, width: p.width + 1, reference: -(2 ** p.width) };
}

/**
 * 10^k for k = 0..340, computed once with the same `10 ** k` the division used to compute per
 * value (so results are bit-for-bit those of before; the exponentiation was a third of the time
 * of a compressed message).
 */
const POW10: readonly number[] = Array.from({ length: 341 }, (_, k) => 10 ** k);

/** 10^k for a non-negative integer k (from the table when it is in it). */
export function pow10(k: number): number {
  return POW10[k] ?? 10 ** k;
}

/**
 * (raw + reference) / 10^scale in float64: the nearest double to the exact decimal value.
 * Dividing by 10^s (not multiplying by 10^-s, which is inexact) gives it, and matches the OPERA
 * library. ecCodes multiplies by an inexact power of ten and is sometimes 1-2 ulp off
 * (e.g. 23.721020000000003 where this gives 23.72102); comparisons with it allow for that.
 */
export function scaled(raw: number, plan: ElementPlan): number {
  const v = raw + plan.reference;
  const s = plan.scale;
  if (s === 0) return v;
  return s > 0 ? v / pow10(s) : v * pow10(-s);
}
