/**
 * A config from a YAML (or JSON) file plus `RADARLIB_*` environment overrides, validated. Parse
 * errors say where in the file, never quote it: the offending line may hold a password.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import { ConfigError } from '../../errors.js';
import { applyEnvOverrides } from './env.js';
import { isRecord, resolveDaemonConfig } from './resolve.js';
import type { DaemonConfig } from './types.js';

/**
 * yaml loads with the first config file read (a config from the environment alone, and
 * `import 'radarlib'`, never need its 70 modules), with `require`: it is CommonJS, and an ESM
 * `import` adds Node's scan of its exports. Types come from `import type` (erased).
 */
const loadYaml = (): typeof Yaml => createRequire(import.meta.url)('yaml') as typeof Yaml;

/** Options of {@link loadDaemonConfig}: the file and the environment to read. */
export interface LoadConfigOptions {
  /** YAML or JSON file; omitted when the whole config comes from the environment. */
  file?: string;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** What {@link loadDaemonConfig} returns: the validated config and what the environment changed. */
export interface LoadedConfig {
  config: DaemonConfig;
  /** Environment variables that were applied, as `NAME -> key` (values never shown). */
  applied: string[];
  /** Variables that were ignored, and similar notes, for the log. */
  warnings: string[];
}

/** Reads the file, applies `RADARLIB_*` overrides, validates. @throws ConfigError */
export async function loadDaemonConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const origin = options.file ?? 'environment';
  const raw = options.file === undefined ? {} : await readConfigFile(options.file);
  if (!isRecord(raw)) throw new ConfigError(origin, '', 'must be a mapping of keys to values');
  const { config, applied, warnings } = applyEnvOverrides(raw, options.env ?? process.env);
  const origins = applied.length > 0 ? `${origin} + environment` : origin;
  return { config: resolveDaemonConfig(config, { origin: origins }), applied, warnings };
}

/** The file's YAML (JSON is YAML too) as plain data; an empty file is `{}`. */
async function readConfigFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(file, '', `cannot read the file (${code})`, { cause: err });
  }
  try {
    return loadYaml().parse(text) ?? {};
  } catch (err) {
    // The parser's message quotes the offending line, which may be the password's: give only
    // where it is, and keep the parser's error out of the cause chain (it is logged).
    throw new ConfigError(file, '', `not valid YAML ${yamlErrorPlace(err)}`);
  }
}

/** `at line 3, column 7 (BAD_INDENT)` from a YAML parse error, without the quoted source text. */
function yamlErrorPlace(err: unknown): string {
  const e = err as { linePos?: { line: number; col: number }[]; code?: unknown };
  const pos = e.linePos?.[0];
  const where = pos === undefined ? 'somewhere in the file' : `at line ${pos.line}, column ${pos.col}`;
  return typeof e.code === 'string' ? `${where} (${e.code})` : where;
}
