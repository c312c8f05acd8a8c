/**
 * radarlib against ECMWF ecCodes on real BUFR data nobody on this project wrote: every message of
 * the pybufrkit test files (../shared/fixtures/bufr-general/pybufrkit) is decoded by both and
 * compared value by value, in order, subset by subset:
 * - numbers equal to within 1e-12 relative (ecCodes' scaling is 1-2 ulp off the nearest double),
 * - missing equal to missing (ecCodes' -1e100), strings equal after trimming trailing spaces/NULs
 *   (an all-missing string is empty in ecCodes),
 * - data present bits (0 31 031) and replication factors are values, never missing,
 * - associated fields (2 04 YYY) are the 999999 entries ecCodes lists before their element,
 * - operators 2 22 000-2 37 255 line up with ecCodes' entries for them (compressed messages are
 *   also checked descriptor by descriptor against ecCodes' expandedCodes).
 * Every message ecCodes decodes must decode here with no mismatch; every other message must give a
 * typed error. Skips, saying why, without ../shared or python3-eccodes.
 */

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { BufrMessage, DataItem } from '../../src/bufr/decoder.js';
import { defaultTableProvider } from '../../src/bufr/tables/index.js';
import { decodeBufrFile, type BufrFileEntry } from '../../src/bufr/file.js';
import { BufrFormatError, BufrUnsupportedError } from '../../src/errors.js';
import { repoRoot, sharedDir } from './helpers.js';

const corpusDir = path.join(sharedDir, 'fixtures', 'bufr-general', 'pybufrkit');
const PYTHON = '/usr/bin/python3';
const dumper = path.join(repoRoot, 'test', 'bufr', 'eccodes-dump.py');

function whyMissing(): string | null {
  if (!existsSync(corpusDir)) return `the general BUFR corpus is not at ${corpusDir} (../shared missing)`;
  const probe = spawnSync(PYTHON, ['-c', 'import eccodes'], { encoding: 'utf8' });
  if (probe.status !== 0)
    return `python3-eccodes is not installed (${PYTHON} -c 'import eccodes' failed): run .ci/install-eccodes.sh`;
  return null;
}
const skip = whyMissing();

interface EccodesMessage {
  file: string;
  index: number;
  ok: boolean;
  error?: string;
  compressed?: boolean;
  subsets?: number;
  codes?: number[];
  values?: (number | null)[];
  strings?: string[];
  texts?: string[][];
}

/** One comparable entry: ecCodes lists one per element, operator, inserted text or associated field. */
interface Entry {
  code: number;
  value: number | string | null;
  operator: boolean;
  text: boolean;
}

/** Our items of one subset, laid out the way ecCodes lists numericValues. */
function entries(items: readonly DataItem[], isText: (code: number) => boolean): Entry[] {
  const out: Entry[] = [];
  for (const it of items) {
    if (it.kind === 'operator') out.push({ code: it.descriptor, value: null, operator: true, text: false });
    else if (it.kind === 'bytes') {
      for (const b of it.bytes ?? [])
        out.push({ code: it.descriptor, value: b === 255 ? null : b, operator: false, text: false });
    } else {
      if (it.associated !== undefined)
        out.push({ code: 999999, value: it.associated.value, operator: false, text: false });
      out.push({ code: it.descriptor, value: it.value, operator: false, text: isText(it.descriptor) });
    }
  }
  return out;
}

const trim = (s: string): string => s.replace(/[\s\0]+$/, '');

/**
 * ecCodes' string for a numericValues entry of a text element: the entry is (string number) *
 * 1000 + length, counting from 1 in stringValues (compressed data whose subsets share the string
 * store it once).
 */
function eccodesString(m: EccodesMessage, v: number | null, s: number, textRank: number): string {
  if (v === null) return '';
  if (m.compressed === true) {
    const t = m.texts?.[textRank];
    return t === undefined ? `<no text ${textRank}>` : ((t.length === 1 ? t[0] : t[s]) ?? '');
  }
  return (m.strings ?? [])[Math.floor(v / 1000) - 1] ?? `<no string ${v}>`;
}

function sameNumber(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b));
}

/** Mismatch descriptions for one message (empty = identical). */
function compare(message: BufrMessage, ec: EccodesMessage): string[] {
  const ours = message.subsets;
  const tables = defaultTableProvider({ ...message.section1 });
  const isText = (code: number): boolean =>
    (code >= 205000 && code < 206000) || tables?.b.get(code)?.isText === true;
  const problems: string[] = [];
  const all = ec.values ?? [];
  const nsub = ec.subsets ?? 0;
  if (ours.length !== nsub) return [`${ours.length} subsets, ecCodes ${nsub}`];
  let offset = 0;
  for (let s = 0; s < nsub; s++) {
    const mine = entries(ours[s] as DataItem[], isText);
    // Compressed: every subset has the same layout; expandedCodes lists it one to one unless a
    // delayed replication (listed once, not unrolled) is in it.
    const width = ec.compressed === true ? all.length / nsub : mine.length;
    const codes = ec.codes?.length === width ? ec.codes : undefined;
    const theirs =
      ec.compressed === true ? all.slice(s * width, (s + 1) * width) : all.slice(offset, offset + width);
    offset += width;
    if (mine.length !== width || theirs.length !== width) {
      problems.push(
        `subset ${s}: ${mine.length} entries, ecCodes ${ec.compressed === true ? width : 'the rest'}`,
      );
      break;
    }
    let textRank = 0;
    for (let k = 0; k < width && problems.length < 10; k++) {
      const a = mine[k] as Entry;
      const b = theirs[k] ?? null;
      const code = codes?.[k];
      const where = `subset ${s} entry ${k} (${a.code})`;
      if (code !== undefined && code !== a.code) {
        problems.push(`${where}: descriptor ${a.code}, ecCodes ${code}`);
        continue;
      }
      if (a.operator) continue;
      if (a.text) {
        const theirsText = eccodesString(ec, b, s, textRank++);
        if (trim(String(a.value ?? '')) !== trim(theirsText))
          problems.push(`${where}: ${JSON.stringify(a.value)}, ecCodes ${JSON.stringify(theirsText)}`);
        continue;
      }
      if (a.value === null && b === null) continue;
      if (typeof a.value !== 'number' || b === null || !sameNumber(a.value, b))
        problems.push(`${where}: ${a.value}, ecCodes ${b}`);
    }
    if (problems.length >= 10) break;
  }
  if (ec.compressed !== true && offset !== all.length && problems.length === 0)
    problems.push(`${offset} values, ecCodes ${all.length}`);
  return problems;
}

void test(
  'every message ecCodes decodes decodes identically; the others give typed errors',
  { skip: skip ?? false },
  async () => {
    const files = readdirSync(corpusDir)
      .filter((f) => f.endsWith('.bufr'))
      .sort()
      .map((f) => path.join(corpusDir, f));
    const dump = JSON.parse(
      execFileSync(PYTHON, [dumper, ...files], {
        encoding: 'utf8',
        maxBuffer: 256 << 20,
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    ) as EccodesMessage[];
    const counts = {
      messages: 0,
      eccodesDecodes: 0,
      weDecode: 0,
      bothDecode: 0,
      mismatched: 0,
      typedErrors: 0,
      values: 0,
    };
    const report: string[] = [];
    for (const file of files) {
      const ours: BufrFileEntry[] = await decodeBufrFile(file);
      const theirs = dump.filter((m) => m.file === file);
      counts.messages += Math.max(ours.length, theirs.length);
      for (let i = 0; i < Math.max(ours.length, theirs.length); i++) {
        const o = ours[i];
        const t = theirs[i];
        const name = `${path.basename(file)} #${i + 1}`;
        if (t?.ok === true) counts.eccodesDecodes++;
        if (o?.ok === true) counts.weDecode++;
        if (o !== undefined && !o.ok) {
          assert.ok(o.error instanceof BufrFormatError || o.error instanceof BufrUnsupportedError, name);
          counts.typedErrors++;
        }
        if (t?.ok === true && o?.ok !== true) {
          report.push(
            `${name}: ecCodes decodes it, we fail: ${o === undefined ? 'no such message' : o.error.message}`,
          );
          continue;
        }
        if (t?.ok !== true || o?.ok !== true) continue;
        counts.bothDecode++;
        const problems = compare(o.message, t);
        counts.values += (t.values ?? []).length;
        if (problems.length > 0) {
          counts.mismatched++;
          report.push(`${name}: ${problems.join('; ')}`);
        }
      }
    }
    console.log(`ecCodes comparison: ${JSON.stringify(counts)}`);
    assert.deepEqual(report, []);
    assert.equal(counts.bothDecode, counts.eccodesDecodes);
  },
);
