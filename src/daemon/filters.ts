/**
 * Which listed names a source takes: its file pattern, the in-flight names it ignores, and the
 * radar filters (radars, strategies, volumes, fields — the original's `vol_types`).
 */
import { loadPicomatch } from '../util/picomatch.js';
import { parseRadarFileName } from '../radar/filename.js';

/** What a source takes: radars, strategies, volumes, fields and name patterns. */
export interface FileFilterOptions {
  /** Glob on the base name (`*.BUFR`); a pattern with `/` is matched on the relative path. */
  filePattern: string;
  /** Globs on the base name that are never taken (`.*`, `*.part`, `*.tmp`). */
  ignore: readonly string[];
  radars: readonly string[] | null;
  strategies: readonly string[] | null;
  volumes: readonly string[] | null;
  fields: readonly string[] | null;
}

/** A compiled file filter (see {@link makeFileFilter}). */
export interface FileFilter {
  /** `relativePath` is the path below the listed folder (the base name for flat listings). */
  (name: string, relativePath?: string): boolean;
}

function includes(list: readonly string[] | null, value: string): boolean {
  return list === null || list.includes(value);
}

/** Builds the predicate once per source; called for every listed name. */
export function makeFileFilter(options: FileFilterOptions): FileFilter {
  const onPath = options.filePattern.includes('/');
  const picomatch = loadPicomatch();
  const pattern = picomatch(options.filePattern, { dot: false });
  const ignored = options.ignore.length === 0 ? () => false : picomatch([...options.ignore], { dot: true });
  const radarFiltered =
    options.radars !== null ||
    options.strategies !== null ||
    options.volumes !== null ||
    options.fields !== null;
  return (name, relativePath) => {
    if (ignored(name)) return false;
    if (!pattern(onPath ? (relativePath ?? name) : name)) return false;
    if (!radarFiltered) return true;
    // With a radar filter set, names outside the convention cannot match it.
    const p = parseRadarFileName(name);
    if (p === null) return false;
    return (
      includes(options.radars, p.radar) &&
      includes(options.strategies, p.strategy) &&
      includes(options.volumes, p.volume) &&
      includes(options.fields, p.field)
    );
  };
}
