/**
 * Environment overrides: `RADARLIB_<KEY>` sets any config key, nested keys joined by `__`,
 * camelCase written as UPPER_SNAKE:
 *
 *   pollInterval            <- RADARLIB_POLL_INTERVAL
 *   backoff.initialDelay    <- RADARLIB_BACKOFF__INITIAL_DELAY
 *   sources[1].password     <- RADARLIB_SOURCES__1__PASSWORD
 *
 * The variable's name is looked up in the schema (schema.ts) through zod's public accessors
 * (`shape`, `unwrap()`, `in`, `type`), which also say how to read its text: a number, a boolean,
 * a list. Nothing here lists the keys a second time, so a key added to the schema can be set
 * from the environment at once.
 */
import type { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { configSchemas } from './schema.js';
import { loadZod } from './zod.js';

export const ENV_PREFIX = 'RADARLIB_';

/** Environment variables starting with RADARLIB_ that are not config keys (read elsewhere). */
export const NON_CONFIG_ENV = new Set([
  'RADARLIB_CONFIG',
  'RADARLIB_LEDGER_URL',
  'RADARLIB_HTTP_TOKEN',
  'RADARLIB_TEST_CONCURRENCY',
]);

/**
 * Aliases: `RADARLIB_LEDGER_URL` sets `ledger` (the name the multi-instance deployment uses for
 * the PostgreSQL URL in an EnvironmentFile) unless `RADARLIB_LEDGER` is set too.
 */
const ENV_ALIASES: Record<string, string> = { RADARLIB_LEDGER_URL: 'RADARLIB_LEDGER' };

/** `RADARLIB_FTP_*` are the examples' and the ftp commands' variables, not daemon config keys. */
const NON_CONFIG_PREFIX = 'RADARLIB_FTP_';

/** `maxConcurrentDownloads` -> `MAX_CONCURRENT_DOWNLOADS`. */
export function envSegment(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** `MAX_CONCURRENT_DOWNLOADS` -> `maxConcurrentDownloads`. */
function keySegment(env: string): string {
  return env.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** The environment variable for a dotted config key (`backoff.initialDelay`). */
export function envNameFor(key: string): string {
  return ENV_PREFIX + key.split('.').map(envSegment).join('__');
}

/** How a variable's text is read: from the type of the key it sets. */
type ValueKind = 'string' | 'number' | 'boolean' | 'list' | 'scalar' | 'group';

/** Where a variable points in the config, and how to read its value. */
interface EnvKey {
  path: (string | number)[];
  kind: ValueKind;
}

/** The schema inside `.optional()`, `.default()`, `.prefault()`, `.nullable()` and pipes. */
function innermost(schema: z.core.$ZodType): z.core.$ZodType {
  const z = loadZod();
  let s = schema;
  for (;;) {
    if (
      s instanceof z.ZodOptional ||
      s instanceof z.ZodDefault ||
      s instanceof z.ZodPrefault ||
      s instanceof z.ZodNullable
    ) {
      s = s.unwrap();
    } else if (s instanceof z.ZodPipe) {
      s = s.in;
    } else {
      return s;
    }
  }
}

function kindOf(schema: z.core.$ZodType): ValueKind {
  const type = schema instanceof loadZod().ZodType ? schema.type : undefined;
  switch (type) {
    case 'string':
    case 'enum':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'array':
      return 'list';
    case 'object':
    case 'record':
      return 'group';
    default:
      // Unions (`secure`: false | 'explicit'; `maxConcurrentDownloads`: n | 'auto'), literals.
      return 'scalar';
  }
}

/**
 * Walks the schema along a variable's segments (`['SOURCES', '1', 'PASSWORD']`); null when they
 * name no key. `sources` holds free-form mappings in the file schema, so an index there continues
 * in the schema of one source.
 */
function lookupKey(segments: readonly string[]): EnvKey | null {
  const z = loadZod();
  const schemas = configSchemas();
  const path: (string | number)[] = [];
  let schema: z.core.$ZodType = schemas.file;
  for (const segment of segments) {
    const s = innermost(schema);
    if (s instanceof z.ZodObject) {
      const key = keySegment(segment);
      const shape: Record<string, z.core.$ZodType> = s.shape;
      const next = Object.hasOwn(shape, key) ? shape[key] : undefined;
      if (next === undefined) return null;
      path.push(key);
      schema = next;
    } else if (s instanceof z.ZodArray && path.at(-1) === 'sources' && /^\d+$/.test(segment)) {
      path.push(Number(segment));
      schema = schemas.source;
    } else {
      return null;
    }
  }
  return { path, kind: kindOf(innermost(schema)) };
}

function parseEnvValue(name: string, raw: string, kind: ValueKind, key: string): unknown {
  const origin = `environment ${name}`;
  switch (kind) {
    case 'string':
      return raw;
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n))
        throw new ConfigError(origin, key, `must be a number, got ${JSON.stringify(raw)}`);
      return n;
    }
    case 'boolean': {
      const v = raw.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return true;
      if (['false', '0', 'no', 'off'].includes(v)) return false;
      throw new ConfigError(origin, key, `must be true or false, got ${JSON.stringify(raw)}`);
    }
    case 'list':
      return parseList(raw, origin, key);
    case 'group':
      throw new ConfigError(origin, key, `is a group of keys; set its members (${name}__<KEY>) instead`);
    case 'scalar': {
      const v = raw.trim();
      if (v === 'false') return false;
      if (v === 'true') return true;
      if (/^\d+$/.test(v)) return Number(v);
      return raw;
    }
  }
}

/** `a, b` or a JSON array (`["a","b"]`); an empty value is an empty list. */
function parseList(raw: string, origin: string, key: string): string[] {
  const t = raw.trim();
  if (!t.startsWith('[')) return t === '' ? [] : t.split(',').map((x) => x.trim());
  try {
    const v: unknown = JSON.parse(t);
    if (Array.isArray(v)) return v.map(String);
  } catch {
    // Not JSON: the error below says what is expected.
  }
  throw new ConfigError(origin, key, 'must be a JSON array or a comma-separated list');
}

/** Sets `value` at `path` in `config`, creating the mappings and lists on the way. */
function setAt(config: Record<string, unknown>, path: readonly (string | number)[], value: unknown): void {
  let target: Record<string | number, unknown> = config;
  path.forEach((k, i) => {
    const next = path[i + 1];
    if (next === undefined) {
      target[k] = value;
      return;
    }
    let child = target[k];
    if (typeof child !== 'object' || child === null) {
      child = typeof next === 'number' ? [] : {};
      target[k] = child;
    }
    target = child as Record<string | number, unknown>;
  });
}

/** The variables that may set config keys, aliases applied, in name order. */
function configVariables(env: NodeJS.ProcessEnv): [string, string][] {
  const withAliases = { ...env };
  for (const [alias, name] of Object.entries(ENV_ALIASES)) {
    if (withAliases[alias] !== undefined && withAliases[name] === undefined) {
      withAliases[name] = withAliases[alias];
    }
  }
  return Object.entries(withAliases)
    .filter(
      (e): e is [string, string] =>
        e[1] !== undefined &&
        e[0].startsWith(ENV_PREFIX) &&
        !NON_CONFIG_ENV.has(e[0]) &&
        !e[0].startsWith(NON_CONFIG_PREFIX),
    )
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Applies `RADARLIB_*` variables to a raw (parsed, not yet validated) config object, returning a
 * new object and warnings for variables that name no key.
 * @throws ConfigError naming the variable and the key when a value cannot be read as its type.
 */
export function applyEnvOverrides(
  raw: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): { config: Record<string, unknown>; applied: string[]; warnings: string[] } {
  const config = structuredClone(raw);
  const applied: string[] = [];
  const warnings: string[] = [];
  for (const [name, value] of configVariables(env)) {
    const found = lookupKey(name.slice(ENV_PREFIX.length).split('__'));
    if (found === null) {
      warnings.push(`${name} names no config key; ignored`);
      continue;
    }
    const key = found.path.join('.');
    setAt(config, found.path, parseEnvValue(name, value, found.kind, key));
    applied.push(`${name} -> ${key}`);
  }
  return { config, applied, warnings };
}
