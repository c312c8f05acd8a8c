/**
 * The JSON the status page renders (`GET /api/status`), built from the tracker's in-memory view
 * and the ledger. Error texts that came from servers or drivers pass through `scrub` (see
 * secrets.ts) field by field; nothing else here holds a secret: only the public fields of each
 * source are copied, and files are shown by base name, never by local path.
 */
import { basename } from 'node:path';
import { errorMessage } from '../errors.js';
import type { Ledger, StateCounts } from '../ledger/ledger.js';
import type { RadarLatency } from '../observe/latency.js';
import { summarizeLedger } from '../observe/ledger-summary.js';
import { remoteBaseName } from '../util/remote-path.js';
import type { PipelineSourceStats } from './metrics.js';
import type { PollInfo, RecentDownload, SourceInfo, StatusTracker } from './tracker.js';

/** Everything the status page shows, as `GET /api/status` returns it. */
export interface StatusSnapshot {
  generatedAt: string;
  startedAt: string;
  healthy: boolean;
  ledger: { backend: string | null; error: string | null };
  fields: string[];
  defaultField: string;
  /** The public facts of each source (never its user name or password) and its state. */
  sources: (SourceInfo & {
    cycles: number;
    /** The last cycle (`at` as ISO time). */
    lastPoll: (Omit<PollInfo, 'at'> & { at: string }) | null;
    nextPollAt: string | null;
    lastSuccessAt: string | null;
    healthy: boolean;
    healthReason: string | null;
    counts: (StateCounts & { done: number }) | null;
    radars: {
      radar: string;
      newestFileTime: string;
      lagSeconds: number;
      quicklooks: Record<string, { url: string; time: string; file: string }>;
    }[];
  })[];
  recentDownloads: (Omit<RecentDownload, 'at'> & { name: string; at: string })[];
  recentFailures: {
    source: string;
    remotePath: string;
    name: string;
    attempts: number;
    error: string;
    at: string;
    /** `failed`: parked, needs a retry; `retrying`: will be retried at `retryAt`. */
    state: 'failed' | 'retrying';
    retryAt: string | null;
  }[];
  /** Per radar: p50/p95 seconds from landing on the server to callback done (recent files). */
  latency: RadarLatency[];
  /** Per source: listings and server commands per minute, callbacks the bottleneck or not. */
  pipeline: PipelineSourceStats[];
}

export interface SnapshotInputs {
  tracker: StatusTracker;
  ledger: Ledger | null;
  defaultField: string;
  /** Epoch ms. */
  now: number;
  /** Cleans an error text that came from a server or a driver. */
  scrub: (text: string) => string;
  /** The daemon's pipeline figures per source (none when it does not report them). */
  pipeline: () => readonly PipelineSourceStats[];
}

export function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

type Counts = StatusSnapshot['sources'][number]['counts'];
type FailedRows = Awaited<ReturnType<Ledger['recent']>>;

/** Counts per source, the parked rows and the latency, or the ledger's error (scrubbed). */
async function readLedger({ tracker, ledger, scrub }: SnapshotInputs): Promise<{
  counts: Map<string, Counts>;
  failedRows: FailedRows;
  latency: RadarLatency[];
  error: string | null;
}> {
  const counts = new Map<string, Counts>();
  if (ledger === null) return { counts, failedRows: [], latency: [], error: null };
  try {
    if (!tracker.seeded) await tracker.seed(ledger);
    for (const s of tracker.sources) {
      const c = await ledger.counts(s.name);
      counts.set(s.name, { ...c, done: c.downloaded + c.processed });
    }
    // The same summary `radarlib status` prints; the page shows its failures and latency.
    const summary = await summarizeLedger(ledger, { limit: 25 });
    return { counts, failedRows: summary.failed, latency: summary.latency, error: null };
  } catch (err) {
    const error = scrub(errorMessage(err));
    return { counts, failedRows: [], latency: [], error };
  }
}

function sourcesOf(
  { tracker, now, scrub }: SnapshotInputs,
  counts: Map<string, Counts>,
  fields: Set<string>,
): StatusSnapshot['sources'] {
  const health = new Map(tracker.health().map((h) => [h.source, h]));
  return tracker.sources.map((s) => {
    const poll = tracker.lastPoll(s.name);
    const h = health.get(s.name);
    return {
      name: s.name,
      host: s.host,
      port: s.port,
      remotePath: s.remotePath,
      layout: s.layout,
      pollInterval: s.pollInterval,
      cycles: tracker.cycles(s.name),
      lastPoll:
        poll === null
          ? null
          : {
              ...poll,
              at: iso(poll.at) as string,
              error: poll.error === null ? null : scrub(poll.error),
              folderErrors: poll.folderErrors.map((f) => ({ path: f.path, error: scrub(f.error) })),
            },
      nextPollAt: iso(tracker.nextPollAt(s.name)),
      lastSuccessAt: iso(h?.lastSuccessAt),
      healthy: h?.healthy ?? true,
      healthReason: h?.reason === undefined || h.reason === null ? null : scrub(h.reason),
      counts: counts.get(s.name) ?? null,
      radars: tracker.radars(s.name).map((r) => {
        const quick: Record<string, { url: string; time: string; file: string }> = {};
        for (const [field, ref] of r.latest) {
          fields.add(field);
          const q = new URLSearchParams({ source: r.source, radar: r.radar, field, v: String(ref.id) });
          quick[field] = {
            url: `api/quicklook.png?${q.toString()}`,
            time: iso(ref.time) as string,
            file: basename(ref.localPath),
          };
        }
        return {
          radar: r.radar,
          newestFileTime: iso(r.newest) as string,
          lagSeconds: Math.max(0, Math.round((now - r.newest) / 100) / 10),
          quicklooks: quick,
        };
      }),
    };
  });
}

function failuresOf(
  { tracker, scrub }: SnapshotInputs,
  failedRows: FailedRows,
): StatusSnapshot['recentFailures'] {
  const parked = new Set(failedRows.map((r) => `${r.source}\u0000${r.remotePath}`));
  return [
    ...failedRows.map((r) => ({
      source: r.source,
      remotePath: r.remotePath,
      name: remoteBaseName(r.remotePath),
      attempts: r.attempts,
      error: scrub(r.lastError ?? ''),
      at: iso(r.updatedAt) as string,
      state: 'failed' as const,
      retryAt: null,
    })),
    ...tracker
      .recentRetries()
      .filter((r) => r.retryAt !== null && !parked.has(`${r.source}\u0000${r.remotePath}`))
      .map((r) => ({
        source: r.source,
        remotePath: r.remotePath,
        name: remoteBaseName(r.remotePath),
        attempts: r.attempts,
        error: scrub(r.error),
        at: iso(r.at) as string,
        state: 'retrying' as const,
        retryAt: iso(r.retryAt),
      })),
  ];
}

/** The page's JSON at `now`. Reads the ledger (counts, parked files); never throws for it. */
export async function buildSnapshot(inputs: SnapshotInputs): Promise<StatusSnapshot> {
  const { tracker, ledger, defaultField, now } = inputs;
  const { counts, failedRows, latency, error } = await readLedger(inputs);
  const fields = new Set<string>();
  const sources = sourcesOf(inputs, counts, fields);
  return {
    generatedAt: iso(now) as string,
    startedAt: iso(tracker.startedAt) as string,
    healthy: sources.every((s) => s.healthy),
    ledger: { backend: ledger?.backend ?? null, error },
    fields: [...fields].sort((a, b) =>
      a === defaultField ? -1 : b === defaultField ? 1 : a.localeCompare(b),
    ),
    defaultField,
    sources,
    recentDownloads: tracker.recentDownloads().map((d) => ({
      source: d.source,
      remotePath: d.remotePath,
      name: remoteBaseName(d.remotePath),
      size: d.size,
      at: iso(d.at) as string,
      durationMs: d.durationMs,
      bytesPerSecond: d.bytesPerSecond,
    })),
    recentFailures: failuresOf(inputs, failedRows),
    latency,
    pipeline: [...inputs.pipeline()],
  };
}
