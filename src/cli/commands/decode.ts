/**
 * `radarlib decode FILE... [--json]`: what is in radar BUFR volumes, per sweep.
 *
 * The summary logic (`summarizeVolume`, `decodeFiles`) is exported so it can be tested without
 * a process; the command only prints. A file that fails is reported with its error code and the
 * others are still decoded; the exit status is 1 when any file failed.
 */

import type { Command } from 'commander';
import { readRadarVolume } from '../../bufr/radar-volume.js';
import { RadarlibError } from '../../errors.js';
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

export type DecodeResult = VolumeSummary | DecodeFailure;

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
  for (const file of files) {
    try {
      out.push(summarizeVolume(file, await readRadarVolume(file)));
    } catch (e) {
      const code = e instanceof RadarlibError ? e.code : ((e as NodeJS.ErrnoException).code ?? 'ERROR');
      out.push({ file, error: { code, message: e instanceof Error ? e.message : String(e) } });
    }
  }
  return out;
}

function pad(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => cell.padStart(widths[c] ?? 0)).join('  ')).join('\n');
}

const num = (x: number | null, digits: number): string => (x === null ? '-' : x.toFixed(digits));

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
      'decode radar BUFR volumes: per sweep elevation, shape, gate size, times and valid-value range',
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
          else console.log(`${formatSummary(r)}\n`);
        }
      }
      if (results.some((r) => 'error' in r)) process.exitCode = 1;
    });
}
