/**
 * The download daemon: config, `FTPDaemon`, and the pure helpers it is built from.
 */
export { FTPDaemon } from './daemon.js';
export type { FTPDaemonOptions, PendingWork, RunOptions } from './daemon.js';
export type { ClientFactory } from './source.js';
export type { PipelineStats } from './source-pipeline.js';
export type { CycleEvent, DaemonEvents, DownloadedEvent, FailedEvent, ProcessedEvent } from './events.js';
export {
  applyEnvOverrides,
  envNameFor,
  loadDaemonConfig,
  redactConfig,
  resolveDaemonConfig,
} from './config.js';
export type {
  DaemonConfig,
  FTPDaemonConfig,
  GlobalInput,
  Layout,
  LoadConfigOptions,
  LoadedConfig,
  ResolveOptions,
  SourceConfig,
  SourceInput,
} from './config.js';
export type { DownloadedFile, ExecHook, FileCallback } from './dispatch.js';
export type { DaemonFtpClient } from './lister.js';
export { backoffDelayMs } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export { makeFileFilter } from './filters.js';
export type { FileFilter, FileFilterOptions } from './filters.js';
export { RadarTreeWalker } from './tree-walker.js';
export type { FolderError, ListDirFn, TreeDirEntry, TreeWalkOptions, TreeWalkResult } from './tree-walker.js';
export type { VerifyFunction } from './verify.js';
export { DAEMON_EVENTS } from '../observe/events.js';
// The radar layouts the daemon is built from (pure functions).
export {
  parseRadarTreePath,
  radarTreeFolder,
  recentHorizon,
  TIME_DECIDES,
  TREE_LEVELS,
  windowStart,
  type FolderTime,
  type RadarTreePath,
  type TreeLevel,
  type TreeMemory,
} from '../radar/tree.js';
export {
  compileTemplate,
  renderTemplate,
  TEMPLATE_PLACEHOLDERS,
  type TemplateInput,
} from '../radar/template.js';
