/** The status page, JSON endpoints, `/metrics` and `/healthz` of a running daemon (see docs/WEB.md). */
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
  SourceHealth,
  SourceInfo,
  StatusTrackerOptions,
  VolumeRef,
} from './tracker.js';
export { DaemonMetrics, METRIC_NAMES } from '../observe/metrics.js';
