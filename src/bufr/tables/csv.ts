/**
 * Parsers for the OPERA BUFR table CSV files (`bufrtabb_16.csv`, `localtabd_41_2.csv`, ...).
 *
 * Table B: `F;XX;YYY;name;unit;scale;reference;width`, one element per line.
 * Table D: `F;XX;YYY;F;XX;YYY` opens a sequence, `;;;F;XX;YYY` continues it, `#` lines are
 * comments. Fields may be padded with spaces.
 */

import { TableParseError } from '../../errors.js';
import type { ElementDef, TableBRow, TableDRow } from './types.js';

function parseCode(f: string, x: string, y: string): number | null {
  const F = Number(f.trim());
  const X = Number(x.trim());
  const Y = Number(y.trim());
  if (![F, X, Y].every(Number.isInteger) || F < 0 || F > 3 || X < 0 || X > 63 || Y < 0 || Y > 255)
    return null;
  return F * 100000 + X * 1000 + Y;
}

function lines(text: string): string[] {
  return text.split(/\r?\n/);
}

/** Parses a table B CSV into rows. */
export function parseTableBCsv(text: string, source = 'table B'): TableBRow[] {
  const rows: TableBRow[] = [];
  lines(text).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const f = line.split(';');
    // Name and unit are free text; the three numbers are the last three fields.
    if (f.length < 8) throw new TableParseError(source, i + 1, `expected 8 fields, got ${f.length}`);
    const code = parseCode(f[0] ?? '', f[1] ?? '', f[2] ?? '');
    if (code === null || code >= 100000) throw new TableParseError(source, i + 1, 'bad descriptor');
    const [scaleS, refS, widthS] = f.slice(-3) as [string, string, string];
    const unit = (f[f.length - 4] ?? '').trim();
    const name = f.slice(3, -4).join(';').trim();
    const scale = Number(scaleS.trim());
    const reference = Number(refS.trim());
    const width = Number(widthS.trim());
    if (!Number.isInteger(scale) || !Number.isInteger(reference) || !Number.isInteger(width) || width < 1) {
      throw new TableParseError(source, i + 1, 'scale, reference and width must be integers (width >= 1)');
    }
    rows.push([code, name, unit, scale, reference, width]);
  });
  return rows;
}

/** Parses a table D CSV into rows (sequence code and member list). */
export function parseTableDCsv(text: string, source = 'table D'): TableDRow[] {
  const rows: [number, number[]][] = [];
  let current: number[] | null = null;
  lines(text).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const f = line.split(';');
    if (f.length !== 6) throw new TableParseError(source, i + 1, `expected 6 fields, got ${f.length}`);
    const member = parseCode(f[3] ?? '', f[4] ?? '', f[5] ?? '');
    if (member === null) throw new TableParseError(source, i + 1, 'bad member descriptor');
    if ((f[0] ?? '').trim() === '') {
      if (current === null) throw new TableParseError(source, i + 1, 'continuation line before any sequence');
      current.push(member);
      return;
    }
    const code = parseCode(f[0] ?? '', f[1] ?? '', f[2] ?? '');
    if (code === null || Math.floor(code / 100000) !== 3)
      throw new TableParseError(source, i + 1, 'bad sequence descriptor');
    current = [member];
    rows.push([code, current]);
  });
  return rows;
}

const TEXT_UNITS = new Set(['CCITT IA5', 'CCITT_IA5']);

/** Builds the element definition for a table B row. */
export function elementFromRow(row: TableBRow): ElementDef {
  const [code, name, unit, scale, reference, width] = row;
  const u = unit.toUpperCase();
  return {
    code,
    name,
    unit,
    scale,
    reference,
    width,
    isText: TEXT_UNITS.has(unit.toUpperCase()),
    isCodeOrFlag: u.startsWith('CODE') || u.startsWith('FLAG'),
  };
}
