/**
 * The RMA radar file-name convention, as pure functions (no I/O): the parser and the formatter
 * side by side, each the inverse of the other.
 *
 *   RMA11_0315_01_DBZH_20251020T152828Z.BUFR
 *   <radar>_<strategy>_<volume>_<field>_<YYYYMMDDTHHMMSSZ>.BUFR
 */
import { remoteBaseName } from '../util/remote-path.js';

import type { RadarVolume } from './model.js';

/** The parts of a radar volume file name. */
export interface RadarFileName {
  /** Radar name, e.g. `RMA11`. */
  radar: string;
  /** Scan strategy, e.g. `0315`. */
  strategy: string;
  /** Volume number within the strategy, e.g. `01`. */
  volume: string;
  /** Field (moment) name, e.g. `DBZH`. */
  field: string;
  /** Nominal time from the name (UTC). Section 1 of the message is more exact. */
  time: Date;
  /** The name's extension without the dot, e.g. `BUFR`. */
  extension: string;
}

const FILE_NAME =
  /^([A-Za-z0-9]+)_([0-9A-Za-z]+)_([0-9A-Za-z]+)_([A-Za-z0-9]+)_(\d{8}T\d{6})Z\.([A-Za-z0-9]+)$/;

/** Parses a radar volume file name (a base name, or a path whose last part is one); `null` if it is not one. */
export function parseRadarFileName(nameOrPath: string): RadarFileName | null {
  const base = remoteBaseName(nameOrPath);
  const m = FILE_NAME.exec(base);
  if (m === null) return null;
  const [, radar, strategy, volume, field, stamp, extension] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const time = parseCompactUtc(stamp);
  if (time === null) return null;
  return { radar, strategy, volume, field, time, extension };
}

/** The name made of `parts` (extension `BUFR` unless given): `parseRadarFileName` reads it back. */
export function formatRadarFileName(
  parts: Omit<RadarFileName, 'extension'> & { extension?: string },
): string {
  const { radar, strategy, volume, field, time } = parts;
  return `${radar}_${strategy}_${volume}_${field}_${formatCompactUtc(time)}Z.${parts.extension ?? 'BUFR'}`;
}

/**
 * The conventional file name of a volume: `RMA11_0315_01_DBZH_20251020T152828Z.BUFR`. A volume
 * read without a name has no strategy or volume number; `0000` and `01` stand in for them.
 */
export function radarVolumeFileName(
  v: Pick<RadarVolume, 'radar' | 'strategy' | 'volumeNumber' | 'field' | 'time'>,
): string {
  return formatRadarFileName({
    radar: v.radar,
    strategy: v.strategy ?? '0000',
    volume: v.volumeNumber ?? '01',
    field: v.field,
    time: v.time,
  });
}

/** Date (UTC, whole seconds) -> `20251020T152828`: the inverse of `parseCompactUtc`. */
export function formatCompactUtc(t: Date): string {
  return t
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, '');
}

/** `20251020T152828` -> Date (UTC), or null when a part is out of range. */
export function parseCompactUtc(stamp: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})$/.exec(stamp);
  if (m === null) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // Date.UTC silently rolls over (month 13 -> next year); reject instead.
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return null;
  return date;
}

/** The newest data time of a file: the time in its radar file name, else its mtime. */
export function fileDataTime(remotePath: string, mtime: number | null): number | null {
  return parseRadarFileName(remotePath)?.time.getTime() ?? mtime;
}

/** The radar a file belongs to: from its radar file name, else the source name. */
export function fileRadar(source: string, remotePath: string): string {
  return parseRadarFileName(remotePath)?.radar ?? source;
}
