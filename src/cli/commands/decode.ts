/**
 * `radarlib decode FILE... [--json]`: what is in BUFR files. A radar volume is summarized per
 * sweep; any other BUFR file (several messages, GTS headers, other centres' data) per message:
 * its section-1 facts and value count, or the typed error that message raised.
 *
 * The summary logic (`summarizeVolume`, `decodeFiles`) is exported so it can be tested without
 * a process; the command only prints. A file or message that fails is reported with its error
 * code and the others are still decoded; the exit status is 1 when anything failed.
 */

import type { Command } from 'commander';
import type { BufrFileEntry } from '../../bufr/file.js';
import { BufrFormatError, BufrUnsupportedError, RadarlibError } from '../../errors.js';
import { FILL, NO_DATA, type RadarVolume } from '../../radar/model.js';

export interface SweepSummary {
  index: number;
  elevation: number;
  nrays: number;
  ngates: number;
  gateSize: number;
  firstGateOffset: number;
  firstAzimuth: number;
  startTime: string;
  endTime: string;
  momentCode: number;
  /** Values that are not -DBL_MAX, +DBL_MAX or NaN. */
  validCount: number;
  noDataCount: number;
  fillCount: number;
  nanCount: number;
  /** Valid-value range, `null` when the sweep has no valid value. */
  min: number | null;
  max: number | null;
}

export interface VolumeSummary {
  file: string;
  radar: string;
  field: string;
  strategy: string | null;
  volumeNumber: string | null;
  time: string;
  latitude: number;
  longitude: number;
  height: number;
  sweeps: SweepSummary[];
}

export interface DecodeFailure {
  file: string;
  error: { code: string; message: string };
}

/** One message of a general BUFR file. */
export type MessageSummary =
  | {
      index: number;
      offset: number;
      edition: number;
      centre: number;
      subCentre: number;
      masterTableVersion: number;
      localTableVersion: number;
      dataCategory: number;
      subsets: number;
      compressed: boolean;
      /** Decoded values over all subsets. */
      values: number;
    }
  | { index: number; offset: number; error: { code: string; message: string } };

/** A BUFR file that is not a radar volume, message by message. */
export interface MessagesSummary {
  file: string;
  messages: MessageSummary[];
}

export type DecodeResult = VolumeSummary | MessagesSummary | DecodeFailure;

/** True when the result holds a failure: the file's, or any of its messages'. */
export function hasFailure(r: DecodeResult): boolean {
  return 'error' in r || ('messages' in r && r.messages.some((m) => 'error' in m));
}

function summarizeMessage(e: BufrFileEntry): MessageSummary {
  if (!e.ok)
    return { index: e.index, offset: e.offset, error: { code: e.error.code, message: e.error.message } };
  const m = e.message;
  return {
    index: e.index,
    offset: e.offset,
    edition: m.edition,
    centre: m.section1.centre,
    subCentre: m.section1.subCentre,
    masterTableVersion: m.section1.masterTableVersion,
    localTableVersion: m.section1.localTableVersion,
    dataCategory: m.section1.dataCategory,
    subsets: m.section3.numberOfSubsets,
    compressed: m.section3.compressed,
    // Compressed: one column per item, without building the item lists.
    values:
      m.columns !== null
        ? m.columns.length * m.section3.numberOfSubsets
        : m.subsets.reduce((n, s) => n + s.length, 0),
  };
}

function failure(file: string, e: unknown): DecodeFailure {
  const code = e instanceof RadarlibError ? e.code : ((e as NodeJS.ErrnoException).code ?? 'ERROR');
  return { file, error: { code, message: e instanceof Error ? e.message : String(e) } };
}

/** A radar volume when the file is one, else every message of the file. */
async function decodeOne(file: string): Promise<DecodeResult> {
  try {
    // The decoder loads when a file is decoded, not when any command starts (CLI start-up).
    const { readRadarVolume } = await import('../../bufr/radar-volume.js');
    return summarizeVolume(file, await readRadarVolume(file));
  } catch (radarError) {
    if (!(radarError instanceof BufrFormatError || radarError instanceof BufrUnsupportedError))
      return failure(file, radarError);
    try {
      const { decodeBufrFile } = await import('../../bufr/file.js');
      const entries = await decodeBufrFile(file);
      return { file, messages: entries.map(summarizeMessage) };
    } catch {
      // Not BUFR at all: the radar reader's error says why as well as any.
      return failure(file, radarError);
    }
  }
}

/** Per-sweep counts and the valid-value range of a volume. */
export function summarizeVolume(file: string, v: RadarVolume): VolumeSummary {
  return {
    file,
    radar: v.radar,
    field: v.field,
    strategy: v.strategy,
    volumeNumber: v.volumeNumber,
    time: v.time.toISOString(),
    latitude: v.latitude,
    longitude: v.longitude,
    height: v.height,
    sweeps: v.sweeps.map((s) => {
      let min = Infinity;
      let max = -Infinity;
      let valid = 0;
      let noData = 0;
      let fill = 0;
      let nan = 0;
      for (const x of s.values) {
        if (x === NO_DATA) noData++;
        else if (x === FILL) fill++;
        else if (x !== x) nan++;
        else {
          valid++;
          if (x < min) min = x;
          if (x > max) max = x;
        }
      }
      return {
        index: s.index,
        elevation: s.elevation,
        nrays: s.nrays,
        ngates: s.ngates,
        gateSize: s.gateSize,
        firstGateOffset: s.firstGateOffset,
        firstAzimuth: s.firstAzimuth,
        startTime: s.startTime.toISOString(),
        endTime: s.endTime.toISOString(),
        momentCode: s.momentCode,
        validCount: valid,
        noDataCount: noData,
        fillCount: fill,
        nanCount: nan,
        min: valid === 0 ? null : min,
        max: valid === 0 ? null : max,
      };
    }),
  };
}

/** Decodes each file (one at a time, so memory stays at one volume). */
export async function decodeFiles(files: readonly string[]): Promise<DecodeResult[]> {
  const out: DecodeResult[] = [];
  for (const file of files) out.push(await decodeOne(file));
  return out;
}

function pad(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => cell.padStart(widths[c] ?? 0)).join('  ')).join('\n');
}

const num = (x: number | null, digits: number): string => (x === null ? '-' : x.toFixed(digits));

/** The human-readable table for a general BUFR file, one row per message. */
export function formatMessages(r: MessagesSummary): string {
  const rows = [
    ['#', 'byte', 'ed', 'centre', 'tables', 'cat', 'subsets', 'values', ''],
    ...r.messages.map((m) =>
      'error' in m
        ? [
            String(m.index + 1),
            String(m.offset),
            '',
            '',
            '',
            '',
            '',
            '',
            `${m.error.code}: ${m.error.message}`,
          ]
        : [
            String(m.index + 1),
            String(m.offset),
            String(m.edition),
            `${m.centre}/${m.subCentre}`,
            `${m.masterTableVersion}/${m.localTableVersion}`,
            String(m.dataCategory),
            String(m.subsets),
            String(m.values),
            m.compressed ? 'compressed' : '',
          ],
    ),
  ];
  return `${r.file}: ${r.messages.length} messages\n${pad(rows)
    .split('\n')
    .map((l) => `  ${l.trimEnd()}`)
    .join('\n')}`;
}

/** The human-readable table for one decoded file. */
export function formatSummary(v: VolumeSummary): string {
  const head =
    `${v.file}\n  ${v.radar} ${v.field}` +
    `${v.strategy === null ? '' : ` strategy ${v.strategy}/${v.volumeNumber ?? '-'}`}` +
    `  ${v.time}  lat ${v.latitude} lon ${v.longitude} h ${v.height} m  ${v.sweeps.length} sweeps`;
  const rows = [
    ['#', 'elev', 'rays x gates', 'gate m', 'offset m', 'az0', 'start', 'end', 'valid', 'min', 'max'],
    ...v.sweeps.map((s) => [
      String(s.index),
      s.elevation.toFixed(2),
      `${s.nrays} x ${s.ngates}`,
      String(s.gateSize),
      String(s.firstGateOffset),
      String(s.firstAzimuth),
      s.startTime.slice(11, 19),
      s.endTime.slice(11, 19),
      String(s.validCount),
      num(s.min, 2),
      num(s.max, 2),
    ]),
  ];
  return `${head}\n${pad(rows)
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}`;
}

export function registerDecodeCommand(program: Command): void {
  program
    .command('decode')
    .description(
      'decode BUFR files: radar volumes per sweep (elevation, shape, gate size, times, value range), other files per message',
    )
    .argument('<files...>', 'BUFR files')
    .option('--json', 'print JSON (an array, one entry per file) instead of tables')
    .action(async (files: string[], opts: { json?: boolean }) => {
      const results = await decodeFiles(files);
      if (opts.json === true) {
        console.log(JSON.stringify(results, null, 2));
      } else {
        for (const r of results) {
          if ('error' in r) console.error(`radarlib: ${r.file}: ${r.error.message} [${r.error.code}]`);
          else if ('messages' in r) console.log(`${formatMessages(r)}\n`);
          else console.log(`${formatSummary(r)}\n`);
        }
      }
      if (results.some(hasFailure)) process.exitCode = 1;
    });
}
