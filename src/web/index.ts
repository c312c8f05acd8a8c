/**
 * `radarlib/web`: the status page, JSON endpoints, `/metrics` and `/healthz` of a running daemon
 * (see docs/WEB.md). Its own entry point so that daemon users who do not serve a page never load
 * the HTTP server and the PNG quick-look renderer.
 *
 * @packageDocumentation
 */
export { ACTION_HEADER, startStatusServer } from './server.js';
export type { StatusDaemon, StatusServer, StatusServerOptions, StatusSnapshot } from './server.js';
export { DEFAULT_BIND, isLoopback, parseBind } from './bind.js';
export { DEFAULT_CONNECTION_LIMITS } from './connections.js';
export type { ConnectionLimits, ConnectionStats } from './connections.js';
export { QUICKLOOK_SIZES } from './quicklook.js';
export type { BindAddress } from './bind.js';
export { StatusTracker } from './tracker.js';
export type {
  PollInfo,
  RadarInfo,
  RecentDownload,
  RecentRetry,
  SourceHealth,
  SourceInfo,
  StatusTrackerOptions,
  VolumeRef,
} from './tracker.js';
export { DaemonMetrics, METRIC_NAMES } from './metrics.js';
export type { PipelineSourceStats } from './metrics.js';
export type { RadarLatency } from '../observe/latency.js';
export type { DaemonMetricsOptions, MetricsDaemon } from './metrics.js';
