/**
 * "Server -> processed" latency per radar, from ledger rows: how long after a volume landed on the
 * server (its mtime, corrected to UTC) its callback finished. For the status page and
 * `radarlib status`. Only rows whose mtime has second precision count (MLSD/MDTM); a LIST time
 * is a minute wide, which would swamp the few seconds this is meant to show.
 */
import type { FileRecord } from '../ledger/ledger.js';
import { MTIME_PRECISION } from '../ledger/ledger.js';
import { fileRadar } from '../radar/filename.js';

/** "Server -> processed" latency of one radar: percentiles over its recent files. */
export interface RadarLatency {
  source: string;
  radar: string;
  /** Files the percentiles are computed from. */
  files: number;
  p50Seconds: number;
  p95Seconds: number;
  maxSeconds: number;
}

/** The `q` quantile (0..1) of ascending `sorted`, nearest rank; NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

type LatencyRow = Pick<FileRecord, 'source' | 'remotePath' | 'mtime' | 'mtimePrecisionMs' | 'processedAt'>;

/** p50/p95/max server -> processed per source and radar, from processed rows (any order). */
export function latencyByRadar(rows: readonly LatencyRow[]): RadarLatency[] {
  const groups = new Map<string, { source: string; radar: string; seconds: number[] }>();
  for (const r of rows) {
    if (r.mtime === null || r.processedAt === null) continue;
    if (r.mtimePrecisionMs > MTIME_PRECISION.second) continue;
    const radar = fileRadar(r.source, r.remotePath);
    const key = `${r.source}\u0000${radar}`;
    let g = groups.get(key);
    if (g === undefined) {
      g = { source: r.source, radar, seconds: [] };
      groups.set(key, g);
    }
    g.seconds.push(Math.max(0, (r.processedAt - r.mtime) / 1000));
  }
  const round = (s: number): number => Math.round(s * 10) / 10;
  return [...groups.values()]
    .map((g) => {
      const sorted = g.seconds.sort((a, b) => a - b);
      return {
        source: g.source,
        radar: g.radar,
        files: sorted.length,
        p50Seconds: round(quantile(sorted, 0.5)),
        p95Seconds: round(quantile(sorted, 0.95)),
        maxSeconds: round(sorted[sorted.length - 1] ?? 0),
      };
    })
    .sort((a, b) => a.source.localeCompare(b.source) || a.radar.localeCompare(b.radar));
}
