/**
 * The download daemon: config, `FTPDaemon`, and the pure helpers it is built from.
 */
export { FTPDaemon } from './daemon.js';
export type { FTPDaemonOptions, RunOptions } from './daemon.js';
export type { CycleEvent, DaemonEvents, DownloadedEvent, FailedEvent, ProcessedEvent } from './events.js';
export {
  applyEnvOverrides,
  envNameFor,
  loadDaemonConfig,
  redactConfig,
  resolveDaemonConfig,
} from './config.js';
export type { DaemonConfig, FTPDaemonConfig, Layout, LoadedConfig, SourceConfig } from './config.js';
export type { DownloadedFile, ExecHook, FileCallback } from './dispatch.js';
export type { DaemonFtpClient } from './lister.js';
export { backoffDelayMs } from './backoff.js';
export { makeFileFilter } from './filters.js';
export { RadarTreeWalker } from './tree-walker.js';
export { DAEMON_EVENTS } from '../observe/events.js';
// The radar layouts the daemon is built from (pure functions).
export {
  parseRadarTreePath,
  radarTreeFolder,
  recentHorizon,
  windowStart,
  type RadarTreePath,
  type TreeLevel,
} from '../radar/tree.js';
export {
  compileTemplate,
  renderTemplate,
  TEMPLATE_PLACEHOLDERS,
  type TemplateInput,
} from '../radar/template.js';
