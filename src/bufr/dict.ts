/**
 * `bufrToDict`: the Python radarlib's `bufr_to_dict` shape, for people porting scripts.
 *
 * `data` is every sweep stacked vertically (rows = sum of nrays) and padded on the right with
 * NaN to the largest ngates, as `uniformize_sweeps` + `assemble_volume` do. `info` keeps the
 * original's Spanish keys; `info.sweeps` holds one list per column (pandas'
 * `to_dict(orient='list')` of the original's sweeps DataFrame). Differences are listed in
 * docs/BUFR.md ("bufrToDict and the Python original").
 */

import path from 'node:path';
import type { RadarVolume } from '../radar/model.js';
import { readRadarVolume, readRadarVolumeSync, type ReadRadarVolumeOptions } from './radar-volume.js';

/** Per-sweep metadata of a {@link BufrDict}, one array element per sweep (the original's keys). */
export interface BufrDictSweeps {
  ano_sweep_ini: number[];
  mes_sweep_ini: number[];
  dia_sweep_ini: number[];
  hora_sweep_ini: number[];
  min_sweep_ini: number[];
  seg_sweep_ini: number[];
  ano_sweep: number[];
  mes_sweep: number[];
  dia_sweep: number[];
  hora_sweep: number[];
  min_sweep: number[];
  seg_sweep: number[];
  elevaciones: number[];
  /** Padded to the largest ngates, as the original reports it. */
  ngates: number[];
  /** Not in the original: each sweep's own ngates before padding. */
  ngates_sweep: number[];
  gate_size: number[];
  gate_offset: number[];
  nrayos: number[];
  rayo_inicial: number[];
}

/** The volume metadata of a {@link BufrDict} (the original's keys: site, time, sweeps). */
export interface BufrDictInfo {
  nombre_radar: string;
  estrategia: { nombre: string | null; volume_number: string | null };
  tipo_producto: string;
  filename: string | null;
  ano_vol: number;
  mes_vol: number;
  dia_vol: number;
  hora_vol: number;
  min_vol: number;
  lat: number;
  lon: number;
  altura: number;
  nsweeps: number;
  sweeps: BufrDictSweeps;
  metadata: Record<string, string | null>;
}

/**
 * The shape of the Python original's `bufr_to_dict`: all sweeps stacked in one matrix, and the
 * volume's metadata. See docs/BUFR.md for the differences.
 */
export interface BufrDict {
  /** Row-major `shape[0] x shape[1]` values: stacked sweeps, NaN padding on the right. */
  data: { values: Float64Array; shape: [rows: number, cols: number] };
  info: BufrDictInfo;
}

/** Converts a volume read by `readRadarVolume` into the original's dictionary shape. */
export function volumeToDict(v: RadarVolume): BufrDict {
  const cols = v.sweeps.reduce((m, s) => Math.max(m, s.ngates), 0);
  const rows = v.sweeps.reduce((n, s) => n + s.nrays, 0);
  const values = new Float64Array(rows * cols);
  let row = 0;
  for (const s of v.sweeps) {
    if (s.ngates === cols) {
      values.set(s.values, row * cols);
    } else {
      for (let r = 0; r < s.nrays; r++) {
        const o = (row + r) * cols;
        values.set(s.values.subarray(r * s.ngates, (r + 1) * s.ngates), o);
        values.fill(Number.NaN, o + s.ngates, o + cols);
      }
    }
    row += s.nrays;
  }
  const col = <T>(f: (s: RadarVolume['sweeps'][number]) => T): T[] => v.sweeps.map(f);
  const sweeps: BufrDictSweeps = {
    ano_sweep_ini: col((s) => s.startTime.getUTCFullYear()),
    mes_sweep_ini: col((s) => s.startTime.getUTCMonth() + 1),
    dia_sweep_ini: col((s) => s.startTime.getUTCDate()),
    hora_sweep_ini: col((s) => s.startTime.getUTCHours()),
    min_sweep_ini: col((s) => s.startTime.getUTCMinutes()),
    seg_sweep_ini: col((s) => s.startTime.getUTCSeconds()),
    ano_sweep: col((s) => s.endTime.getUTCFullYear()),
    mes_sweep: col((s) => s.endTime.getUTCMonth() + 1),
    dia_sweep: col((s) => s.endTime.getUTCDate()),
    hora_sweep: col((s) => s.endTime.getUTCHours()),
    min_sweep: col((s) => s.endTime.getUTCMinutes()),
    seg_sweep: col((s) => s.endTime.getUTCSeconds()),
    elevaciones: col((s) => s.elevation),
    ngates: col(() => cols),
    ngates_sweep: col((s) => s.ngates),
    gate_size: col((s) => s.gateSize),
    gate_offset: col((s) => s.firstGateOffset),
    nrayos: col((s) => s.nrays),
    rayo_inicial: col((s) => s.firstAzimuth),
  };
  const first = v.sweeps[0];
  const endOf = (k: keyof BufrDictSweeps): number | string => sweeps[k][0] ?? '';
  const filename = v.fileName;
  const parts = filename === null ? null : path.basename(filename).split('_');
  const info: BufrDictInfo = {
    nombre_radar: v.radar,
    estrategia: { nombre: v.strategy, volume_number: v.volumeNumber },
    tipo_producto: v.field,
    filename,
    // The original takes these from 3 01 031 (no seconds); section 1 has the same values.
    ano_vol: v.time.getUTCFullYear(),
    mes_vol: v.time.getUTCMonth() + 1,
    dia_vol: v.time.getUTCDate(),
    hora_vol: v.time.getUTCHours(),
    min_vol: v.time.getUTCMinutes(),
    lat: v.latitude,
    lon: v.longitude,
    altura: v.height,
    nsweeps: v.sweeps.length,
    sweeps,
    metadata: {
      comment: '-',
      instrument_type: 'Radar',
      site_name: '-',
      Sub_conventions: '-',
      references: '-',
      volume_number: v.volumeNumber,
      scan_id: v.strategy,
      title: '-',
      source: '-',
      version: '-',
      instrument_name: v.radar,
      ray_times_increase: '-',
      platform_is_mobile: 'false',
      driver: '-',
      institution: 'SiNaRaMe',
      n_gates_vary: '-',
      primary_axis: '-',
      // The original's "created" uses the first sweep's END time fields (dia_sweep, ...).
      created:
        first === undefined
          ? null
          : `Fecha:${endOf('dia_sweep')}/${endOf('mes_sweep')}/${endOf('ano_sweep')} Hora:${endOf('hora_sweep')}:${endOf('min_sweep')}:${endOf('seg_sweep')}`,
      scan_name: '-',
      author: 'Grupo Radar Cordoba (GRC) - Extractor/Conversor de Datos de Radar ',
      Conventions: '-',
      platform_type: 'Base Fija',
      history: '-',
      filename:
        parts === null || parts.length < 5
          ? null
          : `${parts[0]}_${parts[1]}_${parts[2]}_${(parts[4] ?? '').split('.')[0]}.nc`,
    },
  };
  return { data: { values, shape: [rows, cols] }, info };
}

/** Reads a file and returns the original's `{data, info}` shape. Throws instead of returning None. */
export async function bufrToDict(
  pathOrBytes: string | Uint8Array,
  options: ReadRadarVolumeOptions = {},
): Promise<BufrDict> {
  return volumeToDict(await readRadarVolume(pathOrBytes, options));
}

/** Synchronous twin of {@link bufrToDict}. */
export function bufrToDictSync(
  pathOrBytes: string | Uint8Array,
  options: ReadRadarVolumeOptions = {},
): BufrDict {
  return volumeToDict(readRadarVolumeSync(pathOrBytes, options));
}
