/**
 * From what a user writes to what the daemon runs with: validates the whole config, turns the
 * single-server form or `sources: [...]` into one validated input per source (top-level source
 * keys are defaults every source inherits), then resolves each source and the process-wide keys
 * (defaults, secrets read from their files, names checked unique).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { ConfigError, InvalidArgumentError } from '../../errors.js';
import { compileTemplate } from '../../radar/template.js';
import { assertSafeExecCommand } from '../exec-hook.js';
import { configSchemas, parseWith, type ConfigSchemas } from './schema.js';
import type { DaemonConfig, SourceConfig } from './types.js';

type ParsedSource = z.output<ConfigSchemas['source']>;
type ParsedFile = z.output<ConfigSchemas['file']>;

/** One source as written, with the defaults it inherits, and where it sits (`sources.1`, or ''). */
interface SourceEntry {
  raw: Record<string, unknown>;
  prefix: string;
}

const RESOLVED = new WeakSet<object>();

/** True for the objects `resolveDaemonConfig` returned (they are not validated twice). */
export function isResolvedConfig(value: unknown): value is DaemonConfig {
  return typeof value === 'object' && value !== null && RESOLVED.has(value);
}

/** Options of {@link resolveDaemonConfig}. */
export interface ResolveOptions {
  /** Where the values came from, for messages (`/etc/radarlib.yaml`). @default 'in code' */
  origin?: string;
}

/**
 * Validates a configuration object (as written in code, or parsed from a file plus environment)
 * and applies every default. Reads `passwordFile` and `tls.caFile` synchronously.
 * @throws ConfigError naming the key.
 */
export function resolveDaemonConfig(input: unknown, options: ResolveOptions = {}): DaemonConfig {
  const origin = options.origin ?? 'in code';
  if (!isRecord(input)) throw new ConfigError(origin, '', 'must be a mapping of keys to values');
  const file = parseWith(configSchemas().file, input, origin, '');
  const sources = sourceEntries(input).map((entry) => resolveSource(entry, origin));
  assertUniqueNames(sources, origin);
  const config = resolveGlobal(file, sources, origin);
  RESOLVED.add(config);
  return config;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The single-server form is one source; with `sources`, each inherits the top-level source keys. */
function sourceEntries(input: Record<string, unknown>): SourceEntry[] {
  const defaults: Record<string, unknown> = {};
  for (const k of configSchemas().sourceKeys) if (input[k] !== undefined) defaults[k] = input[k];
  const listed = input['sources'];
  if (listed === undefined) return [{ raw: defaults, prefix: '' }];
  // The file schema has checked that `sources` is a list of mappings.
  return (listed as Record<string, unknown>[]).map((s, i) => ({
    raw: { ...defaults, ...s },
    prefix: `sources.${i}`,
  }));
}

function resolveSource({ raw, prefix }: SourceEntry, origin: string): SourceConfig {
  const key = (k: string): string => (prefix === '' ? k : `${prefix}.${k}`);
  const s = parseWith(configSchemas().source, raw, origin, prefix);
  // Read in this order so that, of several faults, the same one is reported first as ever.
  const password = sourcePassword(s, origin, key);
  const localLayout = compiledLayout(s.localLayout, origin, key('localLayout'));
  const tls = resolveTls(s.tls, origin, key('tls.caFile'));
  const port = s.port ?? (s.protocol === 'sftp' ? 22 : 21);
  if (s.overlapSetup && s.maxConcurrentDownloads === 'auto') {
    throw new ConfigError(
      origin,
      key('overlapSetup'),
      "needs a number for maxConcurrentDownloads, not 'auto' (the data transfers it overlaps are fixed)",
    );
  }
  return {
    name: sourceName({ ...s, port }),
    protocol: s.protocol,
    host: s.host,
    port,
    username: s.username,
    password,
    sftp: definedOnly(s.sftp),
    secure: s.secure,
    tls,
    epsv: s.epsv,
    maxConnections: connectionCap(s),
    timeouts: s.timeouts,
    remotePath: s.remotePath,
    localDir: s.localDir,
    filePattern: s.filePattern,
    layout: s.layout ?? (s.recursive ? 'recursive' : 'flat'),
    lookback: s.lookback,
    startTime: s.startTime === undefined ? null : new Date(s.startTime),
    recentFolders: s.recentFolders,
    fullRescanEvery: s.fullRescanEvery,
    radars: s.radars ?? null,
    strategies: s.strategies ?? null,
    volumes: s.volumes ?? null,
    fields: s.fields ?? null,
    ignore: s.ignore,
    localLayout,
    pollInterval: s.pollInterval,
    hotInterval: s.hotInterval,
    listingBudget: s.listingBudget,
    maxConcurrentDownloads: s.maxConcurrentDownloads,
    autoConcurrencyCap: s.autoConcurrencyCap,
    overlapSetup: overlapsSetup(s),
    minAge: s.minAge,
    settle: s.settle,
    serverTimeZone: s.serverTimeZone,
    verify: s.verify,
    maxAttempts: s.maxAttempts,
    backoff: s.backoff,
  };
}

/** The password given inline or in `passwordFile` (an empty one counts as not given), or ''. */
function sourcePassword(s: ParsedSource, origin: string, key: (k: string) => string): string {
  const passwordFile = s.passwordFile === '' ? undefined : s.passwordFile;
  const passwordSet = s.password !== undefined && s.password !== '';
  if (passwordSet && passwordFile !== undefined) {
    throw new ConfigError(origin, key('password'), 'set either password or passwordFile, not both');
  }
  return passwordFile !== undefined
    ? readSecretFile(origin, key('passwordFile'), passwordFile)
    : (s.password ?? '');
}

function compiledLayout(template: string, origin: string, key: string): string {
  try {
    return compileTemplate(template);
  } catch (err) {
    const detail =
      err instanceof InvalidArgumentError ? err.message.replace(/^Invalid localLayout: /, '') : String(err);
    throw new ConfigError(origin, key, detail, { cause: err });
  }
}

/** FTPS options with the CA certificate read from `caFile`; null when `tls` is not given. */
function resolveTls(tls: ParsedSource['tls'], origin: string, caFileKey: string): SourceConfig['tls'] {
  if (tls === undefined) return null;
  return {
    rejectUnauthorized: tls.rejectUnauthorized,
    ...(tls.caFile === undefined ? {} : { ca: readSecretFile(origin, caFileKey, tls.caFile) }),
    ...(tls.servername === undefined ? {} : { servername: tls.servername }),
  };
}

/** The SFTP options that were given (an absent one is not a key holding `undefined`). */
function definedOnly(sftp: ParsedSource['sftp']): SourceConfig['sftp'] {
  return Object.fromEntries(Object.entries(sftp).filter(([, v]) => v !== undefined)) as SourceConfig['sftp'];
}

/** `overlapSetup` where it applies: FTP (SFTP sets a transfer up on one channel, nothing to overlap). */
function overlapsSetup(s: ParsedSource): boolean {
  return s.overlapSetup && s.protocol === 'ftp';
}

/**
 * Connections to the server: as configured, else one per download slot (the cap when 'auto'),
 * two per slot with `overlapSetup` (one moving data, one setting the next file up).
 */
function connectionCap(s: ParsedSource): number {
  if (s.maxConnections !== undefined) return s.maxConnections;
  if (s.maxConcurrentDownloads === 'auto') return s.autoConcurrencyCap;
  return overlapsSetup(s) ? s.maxConcurrentDownloads * 2 : s.maxConcurrentDownloads;
}

/** The name given, else `host[:port][/path]` (`sftp://` in front for SFTP): stable across restarts. */
function sourceName(s: {
  name?: string | undefined;
  protocol: 'ftp' | 'sftp';
  host: string;
  port: number;
  remotePath: string;
}): string {
  if (s.name !== undefined) return s.name;
  const sftp = s.protocol === 'sftp';
  const port = s.port === (sftp ? 22 : 21) ? '' : `:${s.port}`;
  const name = `${s.host}${port}${s.remotePath === '/' ? '' : s.remotePath.replace(/\/+$/, '')}`;
  return sftp ? `sftp://${name}` : name;
}

/** Source names key the ledger's rows: two sources with one name would share (and lose) files. */
function assertUniqueNames(sources: readonly SourceConfig[], origin: string): void {
  const seen = new Map<string, number>();
  sources.forEach((s, i) => {
    const prev = seen.get(s.name);
    if (prev !== undefined) {
      throw new ConfigError(
        origin,
        `sources.${i}.name`,
        `duplicate source name "${s.name}" (also sources.${prev})`,
      );
    }
    seen.set(s.name, i);
  });
}

/** The process-wide keys, with the ledger beside the first source's files unless given. */
function resolveGlobal(g: ParsedFile, sources: SourceConfig[], origin: string): DaemonConfig {
  const first = sources[0];
  if (first === undefined) throw new ConfigError(origin, 'sources', 'must list at least one source');
  return {
    sources,
    ledger: g.ledger ?? join(first.localDir, '.radarlib', 'ledger.sqlite'),
    callbackConcurrency: g.callbackConcurrency,
    exec: g.exec === undefined ? null : checkedExecHook(origin, g.exec),
    http: g.http === undefined ? null : resolveHttp(origin, g.http),
    logLevel: g.logLevel,
    stopTimeout: g.stopTimeout,
    leaseDuration: g.leaseDuration,
  };
}

function checkedExecHook<T extends { command: string | string[] }>(origin: string, exec: T): T {
  try {
    assertSafeExecCommand(exec.command);
  } catch (err) {
    throw new ConfigError(origin, 'exec.command', (err as Error).message, { cause: err });
  }
  return exec;
}

function resolveHttp(
  origin: string,
  http: NonNullable<ParsedFile['http']>,
): NonNullable<DaemonConfig['http']> {
  if (http.token !== undefined && http.tokenFile !== undefined) {
    throw new ConfigError(origin, 'http.token', 'set either token or tokenFile, not both');
  }
  const token =
    http.tokenFile !== undefined ? readSecretFile(origin, 'http.tokenFile', http.tokenFile) : http.token;
  return {
    host: http.host,
    port: http.port,
    insecure: http.insecure,
    ...(token === undefined ? {} : { token }),
  };
}

/** A password, token or certificate kept in its own file. @throws ConfigError naming `key` */
function readSecretFile(origin: string, key: string, file: string): string {
  try {
    // Trailing newlines are an editor artefact, never part of a password.
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(origin, key, `cannot read ${file} (${code})`, { cause: err });
  }
}
