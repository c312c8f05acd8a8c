/**
 * Daemon configuration: one zod schema with the defaults, a YAML (or JSON) file, `RADARLIB_*`
 * environment overrides for every key, and the password from the config, the environment or a
 * file. Every failure is a `ConfigError` naming the key (`sources.1.port`) and what is wrong.
 *
 * The single-server form (`host`, `remotePath`, `localDir` at the top) is sugar for one source.
 * With `sources: [...]`, every per-source key given at the top is a default each source inherits.
 *
 * Durations are in seconds, as in the original `radar_ftp_daemon`.
 *
 * One module per job, under config/:
 *   schema.ts   every key, its type and default (zod); the input types
 *   types.ts    the resolved config the daemon runs with
 *   resolve.ts  input -> resolved config, in named steps (sources, secrets, names, globals)
 *   env.ts      `RADARLIB_*` variables -> keys, typed by the schema
 *   load.ts     file + environment -> resolved config
 *   redact.ts   copies safe to print or log
 */
export type { FTPDaemonConfig, GlobalInput, SourceInput } from './config/schema.js';
export type { DaemonConfig, Layout, SourceConfig } from './config/types.js';
export { isResolvedConfig, resolveDaemonConfig, type ResolveOptions } from './config/resolve.js';
export { applyEnvOverrides, ENV_PREFIX, envNameFor, envSegment, NON_CONFIG_ENV } from './config/env.js';
export { loadDaemonConfig, type LoadConfigOptions, type LoadedConfig } from './config/load.js';
export { redactConfig, redactUrl } from './config/redact.js';
