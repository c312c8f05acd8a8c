/**
 * Prometheus metrics of a running daemon (prom-client), fed by the daemon's typed events and,
 * at scrape time, by the ledger. The names are a public interface: they are listed in
 * docs/WEB.md and in `METRIC_NAMES`, and tests check that a scrape contains each of them.
 *
 * Counters start when the process starts (Prometheus handles resets); gauges that describe
 * persistent state (`radarlib_ledger_files`) are read from the ledger on every scrape, so they
 * are right after a restart too.
 */
import type { EventEmitter } from 'node:events';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import * as prom from './prom-client.js';
import type {
  CycleEvent,
  DaemonEvents,
  DownloadedEvent,
  FailedEvent,
  ProcessedEvent,
} from '../daemon/daemon.js';
import { errorCode } from '../errors.js';
import { FILE_STATES, type FileRecord, type Ledger } from '../ledger/ledger.js';
import { fileDataTime, fileRadar } from '../radar/filename.js';
import { subscribe } from './subscribe.js';

/** Every metric radarlib exports (besides prom-client's default process/nodejs metrics). */
export const METRIC_NAMES = {
  filesDownloaded: 'radarlib_files_downloaded_total',
  bytesDownloaded: 'radarlib_bytes_downloaded_total',
  downloadFailures: 'radarlib_download_failures_total',
  downloadDuration: 'radarlib_download_duration_seconds',
  filesProcessed: 'radarlib_files_processed_total',
  cycles: 'radarlib_cycles_total',
  cycleDuration: 'radarlib_cycle_duration_seconds',
  lastSuccessfulPoll: 'radarlib_last_successful_poll_timestamp_seconds',
  lag: 'radarlib_lag_seconds',
  ledgerFiles: 'radarlib_ledger_files',
  stageLatency: 'radarlib_stage_latency_seconds',
  listingsPerMinute: 'radarlib_listings_per_minute',
  commandsPerMinute: 'radarlib_server_commands_per_minute',
  callbackBacklog: 'radarlib_callback_backlog',
  callbacksBottleneck: 'radarlib_callbacks_bottleneck',
} as const;

/**
 * Stages of a file's way, each the time from the previous stage (`total`: server mtime ->
 * processed). Times come from the ledger row (`mtime`, `firstSeenAt`, `readyAt`, `downloadedAt`)
 * and the moment the callback finished.
 */
export const LATENCY_STAGES = ['listed', 'ready', 'downloaded', 'processed', 'total'] as const;
export type LatencyStage = (typeof LATENCY_STAGES)[number];

/** Seconds each stage took for one processed file (stages without both times are left out). */
export function stageLatencies(
  record: Pick<FileRecord, 'mtime' | 'firstSeenAt' | 'readyAt' | 'downloadedAt'>,
  processedAt: number,
): Partial<Record<LatencyStage, number>> {
  const out: Partial<Record<LatencyStage, number>> = {};
  const put = (stage: LatencyStage, from: number | null, to: number | null): void => {
    if (from !== null && to !== null) out[stage] = Math.max(0, (to - from) / 1000);
  };
  put('listed', record.mtime, record.firstSeenAt);
  put('ready', record.firstSeenAt, record.readyAt);
  put('downloaded', record.readyAt ?? record.firstSeenAt, record.downloadedAt);
  put('processed', record.downloadedAt, processedAt);
  put('total', record.mtime, processedAt);
  return out;
}

/** One source's pipeline as the metrics read it. */
export interface PipelineSourceStats {
  source: string;
  listingsPerMinute: number;
  /** Null when the source's client does not count commands (SFTP). */
  commandsPerMinute: number | null;
  callbacksBottleneck: boolean;
}

/** What a daemon reports of its pipelines (`FTPDaemon.pipelineStats`). */
export interface PipelineStatsSource {
  pipelineStats(): { sources: readonly PipelineSourceStats[]; callbackBacklog: number };
}

/** The daemon's pipeline stats, when it reports them (an `FTPDaemon` does). */
export function pipelineStatsOf(daemon: object): PipelineStatsSource | null {
  return typeof (daemon as Partial<PipelineStatsSource>).pipelineStats === 'function'
    ? (daemon as PipelineStatsSource)
    : null;
}

/**
 * Radar names come from remote servers: a hostile or broken one could list thousands, and each
 * would become a time series (and a row on the status page). Past this many per source, further
 * names share the label `OTHER_RADARS`.
 */
export const MAX_RADARS_PER_SOURCE = 64;
export const OTHER_RADARS = 'other';

/** `radar` if it is already known or there is room for it among `known`, else `OTHER_RADARS`. */
export function cappedRadar(
  known: ReadonlySet<string> | ReadonlyMap<string, unknown>,
  radar: string,
  cap: number,
): string {
  if (known.has(radar)) return radar;
  const named = known.size - (known.has(OTHER_RADARS) ? 1 : 0);
  return named < cap ? radar : OTHER_RADARS;
}

/** What the metrics need from a daemon: its events, its sources and (once open) its ledger. */
export interface MetricsDaemon extends EventEmitter<DaemonEvents> {
  readonly config: { readonly sources: readonly { readonly name: string }[] };
  readonly ledger: Ledger | null;
}

/** Options of the {@link DaemonMetrics} constructor. */
export interface DaemonMetricsOptions {
  /** Registry to register into. @default a new one */
  registry?: Registry;
  /** Also export prom-client's default process and Node.js metrics. @default true */
  defaultMetrics?: boolean;
  /** Clock (epoch ms), for tests. @default Date.now */
  now?: () => number;
  /** Cycle duration buckets, seconds. */
  cycleBuckets?: number[];
  /** Distinct `radar` labels per source before the rest share "other". @default MAX_RADARS_PER_SOURCE */
  maxRadarsPerSource?: number;
}

/** Metrics fed by `downloaded`, `retry` and `failed` events. */
interface DownloadMetrics {
  files: Counter<'source'>;
  bytes: Counter<'source'>;
  failures: Counter<'source' | 'code' | 'outcome'>;
  duration: Histogram<'source'>;
}

function createDownloadMetrics(registers: Registry[]): DownloadMetrics {
  return {
    files: new prom.Counter({
      name: METRIC_NAMES.filesDownloaded,
      help: 'Files committed under their final name',
      labelNames: ['source'],
      registers,
    }),
    bytes: new prom.Counter({
      name: METRIC_NAMES.bytesDownloaded,
      help: 'Bytes of the files committed under their final name',
      labelNames: ['source'],
      registers,
    }),
    failures: new prom.Counter({
      name: METRIC_NAMES.downloadFailures,
      help: 'Failed download attempts, by error code; outcome "retry" (will be retried) or "failed" (parked)',
      labelNames: ['source', 'code', 'outcome'],
      registers,
    }),
    duration: new prom.Histogram({
      name: METRIC_NAMES.downloadDuration,
      help: 'Time to download and commit one file',
      labelNames: ['source'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
  };
}

/** Metrics fed by `processed` events. */
interface ProcessedMetrics {
  files: Counter<'source' | 'result'>;
  stageLatency: Histogram<'source' | 'stage'>;
}

function createProcessedMetrics(registers: Registry[]): ProcessedMetrics {
  return {
    files: new prom.Counter({
      name: METRIC_NAMES.filesProcessed,
      help: 'Files handed to the callback / exec hook; result "ok" or "error"',
      labelNames: ['source', 'result'],
      registers,
    }),
    stageLatency: new prom.Histogram({
      name: METRIC_NAMES.stageLatency,
      help: 'Time each stage took per file: listed (server mtime -> first listed), ready (listed -> settled), downloaded (ready -> committed), processed (committed -> callback done), total (server mtime -> callback done)',
      labelNames: ['source', 'stage'],
      buckets: [0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 60, 120, 300, 900, 3600],
      registers,
    }),
  };
}

/** Metrics fed by `cycle` events. */
interface CycleMetrics {
  cycles: Counter<'source' | 'result'>;
  duration: Histogram<'source'>;
  lastSuccess: Gauge<'source'>;
}

function createCycleMetrics(registers: Registry[], buckets: number[] | undefined): CycleMetrics {
  return {
    cycles: new prom.Counter({
      name: METRIC_NAMES.cycles,
      help: 'Poll cycles; result "ok", "error" (listing failed) or "skipped" (another instance lists)',
      labelNames: ['source', 'result'],
      registers,
    }),
    duration: new prom.Histogram({
      name: METRIC_NAMES.cycleDuration,
      help: 'Duration of one poll cycle (list, plan, download, dispatch)',
      labelNames: ['source'],
      buckets: buckets ?? [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
      registers,
    }),
    lastSuccess: new prom.Gauge({
      name: METRIC_NAMES.lastSuccessfulPoll,
      help: 'Unix time of the end of the last poll cycle whose listing succeeded',
      labelNames: ['source'],
      registers,
    }),
  };
}

// The gauges below are read at scrape time: prom-client calls `collect` with the gauge as
// `this`, so each takes the state it reads as functions of the metrics object.

/** Each source's pipeline stats; sources of a daemon without them (or not started) read as idle. */
function pipelineSourceStats(
  pipeline: PipelineStatsSource | null,
  sources: readonly string[],
): readonly PipelineSourceStats[] {
  return (
    pipeline?.pipelineStats().sources ??
    sources.map((source) => ({
      source,
      listingsPerMinute: 0,
      commandsPerMinute: 0,
      callbacksBottleneck: false,
    }))
  );
}

function registerPipelineGauges(
  registers: Registry[],
  pipeline: () => PipelineStatsSource | null,
  sources: () => readonly string[],
): void {
  const pipelineSources = (): readonly PipelineSourceStats[] => pipelineSourceStats(pipeline(), sources());
  new prom.Gauge({
    name: METRIC_NAMES.listingsPerMinute,
    help: 'LIST commands per minute sent to the source (last minute)',
    labelNames: ['source'],
    registers,
    collect() {
      this.reset();
      for (const s of pipelineSources()) this.set({ source: s.source }, s.listingsPerMinute);
    },
  });
  new prom.Gauge({
    name: METRIC_NAMES.commandsPerMinute,
    help: 'FTP commands per minute sent to the source, as the client counted them: listings, downloads, logins (last minute)',
    labelNames: ['source'],
    registers,
    collect() {
      this.reset();
      for (const s of pipelineSources())
        if (s.commandsPerMinute !== null) this.set({ source: s.source }, s.commandsPerMinute);
    },
  });
  new prom.Gauge({
    name: METRIC_NAMES.callbackBacklog,
    help: 'Downloaded files waiting for a callback slot',
    registers,
    collect() {
      this.set(pipeline()?.pipelineStats().callbackBacklog ?? 0);
    },
  });
  new prom.Gauge({
    name: METRIC_NAMES.callbacksBottleneck,
    help: '1 while downloads of the source wait for the callbacks (their backlog is full)',
    labelNames: ['source'],
    registers,
    collect() {
      this.reset();
      for (const s of pipelineSources()) this.set({ source: s.source }, s.callbacksBottleneck ? 1 : 0);
    },
  });
}

interface LagSample {
  source: string;
  radar: string;
  seconds: number;
}

/** Seconds from each radar's newest data time (`newest`: per source, per radar) to `now`. */
function lagSamples(newest: ReadonlyMap<string, ReadonlyMap<string, number>>, now: number): LagSample[] {
  const out: LagSample[] = [];
  for (const [source, radars] of newest) {
    for (const [radar, t] of radars) out.push({ source, radar, seconds: Math.max(0, (now - t) / 1000) });
  }
  return out;
}

function registerLagGauge(registers: Registry[], samples: () => LagSample[]): void {
  new prom.Gauge({
    name: METRIC_NAMES.lag,
    help: 'Now minus the data time of the newest downloaded file, per radar (file-name time, else mtime)',
    labelNames: ['source', 'radar'],
    registers,
    collect() {
      this.reset();
      for (const { source, radar, seconds } of samples()) this.set({ source, radar }, seconds);
    },
  });
}

function registerLedgerGauge(
  registers: Registry[],
  currentLedger: () => Ledger | null,
  currentSources: () => readonly string[],
): void {
  new prom.Gauge({
    name: METRIC_NAMES.ledgerFiles,
    help: 'Ledger rows by state (seen, ready, downloading, downloaded, processed, failed), read at scrape time',
    labelNames: ['source', 'state'],
    registers,
    async collect() {
      const ledger = currentLedger();
      const sources = currentSources();
      if (ledger === null) return;
      this.reset();
      for (const source of sources) {
        try {
          const counts = await ledger.counts(source);
          for (const state of FILE_STATES) this.set({ source, state }, counts[state]);
        } catch {
          // A closed or unreachable ledger: leave the rows out rather than fail the scrape.
        }
      }
    },
  });
}

/**
 * The daemon's Prometheus metrics (prom-client): counters fed by its events, gauges read from
 * the ledger at scrape time. The status server serves them at `/metrics`; share the `registry`
 * with your own exporters. Names: {@link METRIC_NAMES}.
 */
export class DaemonMetrics {
  readonly registry: Registry;
  readonly #now: () => number;
  readonly #maxRadars: number;
  #sources: () => readonly string[] = () => [];
  #ledger: () => Ledger | null = () => null;
  /** Newest data time per source and radar. */
  readonly #newest = new Map<string, Map<string, number>>();

  readonly #download: DownloadMetrics;
  readonly #processed: ProcessedMetrics;
  readonly #cycle: CycleMetrics;
  #pipeline: PipelineStatsSource | null = null;

  constructor(options: DaemonMetricsOptions = {}) {
    this.registry = options.registry ?? new prom.Registry();
    this.#now = options.now ?? Date.now;
    this.#maxRadars = options.maxRadarsPerSource ?? MAX_RADARS_PER_SOURCE;
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) prom.collectDefaultMetrics({ register: this.registry });

    this.#download = createDownloadMetrics(registers);
    this.#processed = createProcessedMetrics(registers);
    this.#cycle = createCycleMetrics(registers, options.cycleBuckets);
    // Arrows, not the values: `attach` and `useLedger` replace them after construction.
    const sources = (): readonly string[] => this.#sources();
    registerPipelineGauges(registers, () => this.#pipeline, sources);
    registerLagGauge(registers, () => lagSamples(this.#newest, this.#now()));
    registerLedgerGauge(registers, () => this.#ledger(), sources);
  }

  /** Subscribes to a daemon's events; returns a function that unsubscribes. */
  attach(daemon: MetricsDaemon): () => void {
    this.#sources = () => daemon.config.sources.map((s) => s.name);
    this.#ledger = () => daemon.ledger;
    this.#pipeline = pipelineStatsOf(daemon);
    return subscribe(daemon, {
      downloaded: (e) => this.onDownloaded(e),
      retry: (e) => this.onFailure(e, 'retry'),
      failed: (e) => this.onFailure(e, 'failed'),
      processed: (e) => this.onProcessed(e),
      cycle: (e) => this.onCycle(e),
    });
  }

  /** Use this ledger for `radarlib_ledger_files` (when not attached to a daemon). */
  useLedger(ledger: () => Ledger | null, sources: () => readonly string[]): void {
    this.#ledger = ledger;
    this.#sources = sources;
  }

  /** Counts one committed file, its bytes and its download duration. */
  onDownloaded(e: DownloadedEvent): void {
    this.#download.files.inc({ source: e.source });
    this.#download.bytes.inc({ source: e.source }, e.record.size);
    this.#download.duration.observe({ source: e.source }, e.durationMs / 1000);
    this.noteFile(e.record);
  }

  /** Counts one failed download attempt by error code, retried or parked. */
  onFailure(e: FailedEvent, outcome: 'retry' | 'failed'): void {
    this.#download.failures.inc({ source: e.source, code: errorCode(e.error), outcome });
  }

  /** Counts one callback outcome (`result` ok or error). */
  onProcessed(e: ProcessedEvent): void {
    this.#processed.files.inc({ source: e.source, result: e.error === null ? 'ok' : 'error' });
    const latencies = stageLatencies(e.record, e.record.processedAt ?? this.#now());
    for (const stage of LATENCY_STAGES) {
      const seconds = latencies[stage];
      if (seconds !== undefined) this.#processed.stageLatency.observe({ source: e.source, stage }, seconds);
    }
  }

  /** Counts one poll cycle (`result` ok, error or skipped) and its duration. */
  onCycle(e: CycleEvent): void {
    const result = e.error !== null ? 'error' : e.skippedListing ? 'skipped' : 'ok';
    this.#cycle.cycles.inc({ source: e.source, result });
    this.#cycle.duration.observe({ source: e.source }, e.durationMs / 1000);
    if (e.error === null) this.#cycle.lastSuccess.set({ source: e.source }, this.#now() / 1000);
  }

  /** Counts a downloaded file towards its radar's lag (also used to seed from the ledger). */
  noteFile(record: Pick<FileRecord, 'source' | 'remotePath' | 'mtime'>): void {
    const t = fileDataTime(record.remotePath, record.mtime);
    if (t === null) return;
    let radars = this.#newest.get(record.source);
    if (radars === undefined) {
      radars = new Map();
      this.#newest.set(record.source, radars);
    }
    const radar = cappedRadar(radars, fileRadar(record.source, record.remotePath), this.#maxRadars);
    if (t > (radars.get(radar) ?? -Infinity)) radars.set(radar, t);
  }

  /** The Prometheus text exposition. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** The `Content-Type` of the exposition format `/metrics` answers with. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
