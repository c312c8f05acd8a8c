/**
 * Data description operators (F = 2, WMO FM 94 BUFR table C) as one explicit state object, and
 * how that state turns a table B entry into the width, scale and reference actually read.
 * Supported: 2 01, 2 02, 2 07, 2 08. Anything else is refused by the caller, by name.
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
}

export function newDecodeState(): DecodeState {
  return { widthDelta: 0, scaleDelta: 0, increase: 0, textChars: 0 };
}

/** How one element is read under the current operators. */
export interface ElementPlan {
  width: number;
  scale: number;
  reference: number;
  text: boolean;
  /** All ones means missing (false for replication factors). */
  missing: boolean;
}

/** Delayed replication factors: never "missing" (0 31 000 / 001 / 002). */
export const FACTOR_DESCRIPTORS: ReadonlySet<number> = new Set([31000, 31001, 31002]);

/** Applies operator `code` to `state`; `false` when the operator is not supported. */
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
    case 7:
      // 2 07 YYY: increase scale, reference value and data width; 2 07 000 cancels.
      state.increase = y;
      return true;
    case 8:
      // 2 08 YYY: CCITT IA5 fields become YYY characters wide; 2 08 000 cancels.
      state.textChars = y;
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
  if (descriptorX(def.code) === 31 || def.isCodeOrFlag) {
    // Class 31 (replication factors, data present indicators) and code/flag tables are not
    // changed by 2 01 / 2 02 / 2 07 (FM 94 table C notes).
    return {
      width: def.width,
      scale: 0,
      reference: def.reference,
      text: false,
      missing: !FACTOR_DESCRIPTORS.has(def.code),
    };
  }
  const inc = state.increase;
  const width = def.width + state.widthDelta + (inc > 0 ? Math.floor((10 * inc + 2) / 3) : 0);
  const scale = def.scale + state.scaleDelta + inc;
  const reference = inc > 0 ? def.reference * 10 ** inc : def.reference;
  return { width, scale, reference, text: false, missing: true };
}

/** (raw + reference) / 10^scale in float64. */
export function scaled(raw: number, plan: ElementPlan): number {
  const v = raw + plan.reference;
  if (plan.scale === 0) return v;
  // Division by 10^s (not multiplication by 10^-s) gives the correctly rounded double that the
  // OPERA library and ecCodes report (9053 - 9000 -> 0.53).
  return plan.scale > 0 ? v / 10 ** plan.scale : v * 10 ** -plan.scale;
}
