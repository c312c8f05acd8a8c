/**
 * Writes section 4's elements for the encoder: each value goes through the plan the decoder reads
 * it with (`elementPlan` and `scaled` in operators.ts), and a value that would not read back as
 * the same number is refused with `InvalidArgumentError` naming the field.
 */

import { InvalidArgumentError } from '../errors.js';
import { BitWriter } from './bit-writer.js';
import { formatDescriptor } from './descriptors.js';
import { elementPlan, newDecodeState, scaled, type ElementPlan } from './operators.js';
import type { ElementGroup } from './rma-structure.js';
import type { BufrTables } from './tables/types.js';

/** The parts of a UTC time, named as the date/time elements of a structure. */
export type UtcParts = Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', number>;

export function utcParts(t: Date): UtcParts {
  return {
    year: t.getUTCFullYear(),
    month: t.getUTCMonth() + 1,
    day: t.getUTCDate(),
    hour: t.getUTCHours(),
    minute: t.getUTCMinutes(),
    second: t.getUTCSeconds(),
  };
}

/** The structures written here use no operator: every element is read as table B defines it. */
const NO_OPERATORS = newDecodeState();

export class DataWriter {
  readonly w: BitWriter;

  /** `tablesName` says which tables these are, for the error when one lacks an element. */
  constructor(
    private readonly tables: BufrTables,
    private readonly tablesName: { option: string; detail: string },
    capacity: number,
  ) {
    this.w = new BitWriter(capacity);
  }

  /** Plans by descriptor: a volume writes the same few elements for every sweep. */
  private readonly plans = new Map<number, ElementPlan>();

  /** How the decoder will read `code`: width, scale and reference. */
  private plan(code: number): ElementPlan {
    let plan = this.plans.get(code);
    if (plan === undefined) {
      const def = this.tables.b.get(code);
      if (def === undefined) {
        const { option, detail } = this.tablesName;
        throw new InvalidArgumentError(option, `${detail} has no ${formatDescriptor(code)}`);
      }
      plan = elementPlan(def, NO_OPERATORS);
      this.plans.set(code, plan);
    }
    return plan;
  }

  /** Encodes a numeric element, refusing values it cannot hold exactly. */
  num(code: number, value: number, field: string): void {
    const plan = this.plan(code);
    const unscaled = plan.scale >= 0 ? value * 10 ** plan.scale : value / 10 ** -plan.scale;
    const raw = Math.round(unscaled) - plan.reference;
    // All ones is "missing" except where the decoder never reads it so (replication factors).
    const max = plan.missing ? 2 ** plan.width - 2 : 2 ** plan.width - 1;
    if (!Number.isFinite(value) || raw < 0 || raw > max || scaled(raw, plan) !== value) {
      const name = this.tables.b.get(code)?.name ?? formatDescriptor(code);
      throw new InvalidArgumentError(
        field,
        `${value} cannot be stored exactly in ${name} (scale ${plan.scale}, reference ${plan.reference}, ${plan.width} bits)`,
      );
    }
    this.w.writeUint(plan.width, raw);
  }

  /** Encodes a CCITT IA5 element, NUL-padded to its width. */
  text(code: number, value: string, field: string): void {
    const n = this.plan(code).width / 8;
    if (value.length > n || [...value].some((ch) => ch.charCodeAt(0) > 0xfe)) {
      throw new InvalidArgumentError(
        field,
        `${JSON.stringify(value)} does not fit in ${n} latin1 characters`,
      );
    }
    this.w.writeText(n, value);
  }

  /** Writes the numbers of `group` from `values`, in order; `field` names each in errors. */
  numbers<K extends string>(
    group: ElementGroup<K>,
    values: Record<K, number>,
    field: (key: K) => string,
  ): void {
    for (const e of group) this.num(e.code, values[e.key], field(e.key));
  }

  /** Writes the strings of `group` from `values`, in order. */
  texts<K extends string>(
    group: ElementGroup<K>,
    values: Record<K, string>,
    field: (key: K) => string,
  ): void {
    for (const e of group) this.text(e.code, values[e.key], field(e.key));
  }

  /** Writes a time through a date/time group (to the minute or to the second). */
  time(group: ElementGroup<keyof UtcParts>, t: Date, field: string): void {
    if (!(t instanceof Date) || Number.isNaN(t.getTime()) || t.getUTCMilliseconds() !== 0) {
      throw new InvalidArgumentError(field, 'must be a valid Date with whole seconds');
    }
    this.numbers(group, utcParts(t), (key) => (key === 'year' ? `${field} (year)` : field));
  }
}
