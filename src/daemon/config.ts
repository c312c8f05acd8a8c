/**
 * Daemon configuration: one zod schema with the defaults, a YAML (or JSON) file, `RADARLIB_*`
 * environment overrides for every key, and the password from the config, the environment or a
 * file. Every failure is a `ConfigError` naming the key (`sources.1.port`) and what is wrong.
 *
 * The single-server form (`host`, `remotePath`, `localDir` at the top) is sugar for one source.
 * With `sources: [...]`, every per-source key given at the top is a default each source inherits.
 *
 * Durations are in seconds, as in the original `radar_ftp_daemon`.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { ConfigError, InvalidArgumentError } from '../errors.js';
import { compileTemplate } from '../radar/template.js';
import { isValidServerTimeZone } from './server-clock.js';
import type { VerifyFunction } from './verify.js';
import { assertSafeExecCommand } from './exec-hook.js';

const seconds = z.number({ error: 'must be a number of seconds' }).nonnegative('must be >= 0');
const positiveInt = z.number().int('must be an integer').positive('must be > 0');
const stringList = z.array(z.string().min(1)).min(1, 'must list at least one name');

/** Keys every source has (per-source, or inherited from the top level). */
const sourceShape = {
  /** Source name in the ledger, logs and status. Must stay stable across restarts. */
  name: z.string().min(1).optional(),
  host: z.string({ error: 'is required (the FTP server host name)' }).min(1, 'must not be empty'),
  /** `sftp`: SSH File Transfer (src/sftp); `secure`, `tls` and `epsv` are then unused. */
  protocol: z.enum(['ftp', 'sftp']).default('ftp'),
  /** @default 21 for FTP/FTPS, 22 for SFTP */
  port: z.number().int().min(1).max(65535).optional(),
  username: z.string().default('anonymous'),
  password: z.string().optional(),
  passwordFile: z.string().optional(),
  secure: z
    .union([z.literal(false), z.enum(['explicit', 'implicit'])], {
      error: "must be false, 'explicit' or 'implicit'",
    })
    .default(false),
  tls: z
    .strictObject({
      rejectUnauthorized: z.boolean().default(true),
      caFile: z.string().optional(),
      servername: z.string().optional(),
    })
    .optional(),
  epsv: z.boolean().default(true),
  /** SFTP login and host key check (src/sftp/types.ts); the password comes from password/passwordFile. */
  sftp: z
    .strictObject({
      privateKeyFile: z.string().min(1).optional(),
      passphraseFile: z.string().min(1).optional(),
      agent: z.union([z.boolean(), z.string().min(1)]).default(false),
      knownHosts: z.string().min(1).optional(),
      hostKeyFingerprint: z.string().min(1).optional(),
      acceptAnyHostKey: z.boolean().default(false),
    })
    .prefault({}),
  maxConnections: positiveInt.optional(),
  timeouts: z
    .strictObject({
      connect: seconds.default(15),
      command: seconds.default(30),
      dataStall: seconds.default(30),
    })
    .prefault({}),
  remotePath: z.string().min(1).default('/'),
  localDir: z.string({ error: 'is required (the folder downloads go to)' }).min(1, 'must not be empty'),
  filePattern: z.string().min(1).default('*.BUFR'),
  recursive: z.boolean().default(false),
  layout: z.enum(['flat', 'recursive', 'radar-tree']).optional(),
  lookback: seconds.default(86_400),
  startTime: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }).optional(),
  recentFolders: positiveInt.default(12),
  fullRescanEvery: z.number().int().nonnegative().default(60),
  radars: stringList.optional(),
  strategies: stringList.optional(),
  volumes: stringList.optional(),
  fields: stringList.optional(),
  ignore: z.array(z.string().min(1)).default(['.*', '*.part', '*.tmp', '*.filepart']),
  localLayout: z.string().default(''),
  pollInterval: z.number({ error: 'must be a number of seconds' }).positive('must be > 0').default(60),
  /** Seconds between listings of the hot folders (newest ones; unsettled ones); 0 turns them off. */
  hotInterval: seconds.default(3),
  /** A number, or 'auto': grow while throughput rises, up to `autoConcurrencyCap` (src/ftp/adaptive.ts). */
  maxConcurrentDownloads: z.union([positiveInt, z.literal('auto')]).default(5),
  autoConcurrencyCap: positiveInt.default(16),
  minAge: seconds.default(120),
  /**
   * Readiness (docs/DAEMON.md "Readiness model"): quiet period, LIST time zone, completeness check.
   * The quiet period defaults to one hot round (two equal listings 2 s apart): BUFR files are
   * verified before commit whatever it is, so only other files need it longer than an upload's
   * longest pause, and a longer default would cost every volume its latency.
   */
  settle: seconds.default(2),
  serverTimeZone: z
    .string()
    .refine(
      isValidServerTimeZone,
      "must be 'auto', 'UTC' or an IANA time zone such as America/Argentina/Buenos_Aires",
    )
    .default('auto'),
  verify: z
    .union([
      z.enum(['auto', 'none']),
      z.custom<VerifyFunction>((v) => typeof v === 'function', 'must be a function'),
    ])
    .default('auto'),
  maxAttempts: positiveInt.default(5),
  backoff: z
    .strictObject({
      initialDelay: seconds.default(30),
      maxDelay: seconds.default(3600),
      multiplier: z.number().min(1).default(2),
      jitter: z.number().min(0).max(1).default(0.5),
    })
    .prefault({}),
};

const SourceSchema = z.strictObject(sourceShape);

const globalShape = {
  /** SQLite file path or `postgres://` URL. @default `<localDir>/.radarlib/ledger.sqlite` */
  ledger: z.string().min(1).optional(),
  callbackConcurrency: positiveInt.default(2),
  exec: z
    .strictObject({
      command: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
      timeout: seconds.default(300),
      /** Variables passed on to the hook besides the minimal set (see exec-hook.ts). */
      env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be variable names')).default([]),
    })
    .optional(),
  http: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535),
      /** Basic-auth password of the status page (prefer `tokenFile`). */
      token: z.string().min(1).optional(),
      tokenFile: z.string().min(1).optional(),
      /** Serve beyond loopback without a token (behind a proxy that authenticates). */
      insecure: z.boolean().default(false),
    })
    .optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  stopTimeout: seconds.default(30),
  leaseDuration: seconds.min(1).default(300),
};

const SOURCE_KEYS = Object.keys(sourceShape) as (keyof typeof sourceShape)[];

/** The whole file: global keys, per-source keys as top-level defaults, and optional `sources`. */
const FileSchema = z.strictObject({
  ...globalShape,
  ...Object.fromEntries(SOURCE_KEYS.map((k) => [k, sourceShape[k].optional()])),
  sources: z.array(z.record(z.string(), z.unknown())).min(1, 'must list at least one source').optional(),
});

/** The keys of one source as written in a config (see docs/DAEMON.md#configuration). */
export type SourceInput = z.input<typeof SourceSchema>;
/** The process-wide keys of a config as written (ledger, http, log level, stop timeout...). */
export type GlobalInput = z.input<z.ZodObject<typeof globalShape>>;

/**
 * What a user writes (in code or YAML): the single-server keys at the top, or `sources: [...]`.
 *
 * @example
 * const config: FTPDaemonConfig = {
 *   host: 'ftp.example.com', username: 'user', password: 'pass',
 *   remotePath: '/radar/data', localDir: '/data/radar/incoming',
 *   pollInterval: 60, maxConcurrentDownloads: 5,
 * };
 */
export type FTPDaemonConfig = GlobalInput &
  Partial<SourceInput> & {
    /** Several servers or radars in one process; top-level source keys are their defaults. */
    sources?: Partial<SourceInput>[];
  };

/**
 * How a source's remote folder is laid out: one `flat` folder, a `recursive` tree matched by
 * glob, or a `radar-tree` (`/L2/<RADAR>/YYYY/MM/DD/HH/MMSS/`) walked inside the time window.
 */
export type Layout = 'flat' | 'recursive' | 'radar-tree';

/** One source after validation: every default applied, password resolved. */
export interface SourceConfig {
  name: string;
  protocol: 'ftp' | 'sftp';
  host: string;
  port: number;
  username: string;
  /** Never logged; `redactConfig` hides it. */
  password: string;
  /** Paths and switches only: the passphrase stays in its file until the client connects. */
  sftp: {
    privateKeyFile?: string;
    passphraseFile?: string;
    agent: boolean | string;
    knownHosts?: string;
    hostKeyFingerprint?: string;
    acceptAnyHostKey: boolean;
  };
  secure: false | 'explicit' | 'implicit';
  tls: { rejectUnauthorized: boolean; ca?: string; servername?: string } | null;
  epsv: boolean;
  maxConnections: number;
  timeouts: { connect: number; command: number; dataStall: number };
  remotePath: string;
  localDir: string;
  filePattern: string;
  layout: Layout;
  lookback: number;
  startTime: Date | null;
  recentFolders: number;
  fullRescanEvery: number;
  radars: string[] | null;
  strategies: string[] | null;
  volumes: string[] | null;
  fields: string[] | null;
  ignore: string[];
  /** Compiled template (always ends with `{name}`). */
  localLayout: string;
  pollInterval: number;
  /**
   * Seconds between listings of the hot folders: the newest folders of each radar (the folder
   * itself when flat) and folders holding files that are still changing. 0 = only `pollInterval`.
   */
  hotInterval: number;
  /** Fixed transfers at once, or 'auto' (adaptive, at most `autoConcurrencyCap`). */
  maxConcurrentDownloads: number | 'auto';
  autoConcurrencyCap: number;
  minAge: number;
  /** Seconds a file must stay unchanged across listings before it is ready. */
  settle: number;
  /** Zone of the server's LIST times: 'auto' (learned by MDTM), 'UTC', or an IANA name. */
  serverTimeZone: string;
  /** Completeness check of a download before it is committed (see src/daemon/verify.ts). */
  verify: 'auto' | 'none' | VerifyFunction;
  maxAttempts: number;
  backoff: { initialDelay: number; maxDelay: number; multiplier: number; jitter: number };
}

/** The whole validated configuration. */
export interface DaemonConfig {
  sources: SourceConfig[];
  ledger: string;
  callbackConcurrency: number;
  exec: { command: string | string[]; timeout: number; env: string[] } | null;
  /** `token` is already read from `tokenFile`. */
  http: { host: string; port: number; token?: string; insecure: boolean } | null;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  stopTimeout: number;
  leaseDuration: number;
}

/** `issue.path` -> `sources.1.port`; unrecognised keys name the key itself. */
function issueKey(prefix: string, issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') path.push(issue.keys.join(', '));
  return [prefix, ...path].filter((p) => p !== '').join('.');
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return 'unknown key (check the spelling; see docs/DAEMON.md)';
  return issue.message.replace(/^Invalid input: /, '');
}

function toConfigError(origin: string, prefix: string, error: z.ZodError): ConfigError {
  const [first, ...rest] = error.issues;
  if (first === undefined) return new ConfigError(origin, prefix, 'invalid');
  const key = issueKey(prefix, first);
  const more = rest.map((i) => `; ${issueKey(prefix, i)}: ${issueMessage(i)}`).join('');
  return new ConfigError(origin, key, `${issueMessage(first)}${more}`, { cause: error });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readPasswordFile(origin: string, key: string, file: string): string {
  try {
    // Trailing newlines are an editor artefact, never part of a password.
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(origin, key, `cannot read ${file} (${code})`, { cause: err });
  }
}

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
  http: {
    host: string;
    port: number;
    token?: string | undefined;
    tokenFile?: string | undefined;
    insecure: boolean;
  },
): NonNullable<DaemonConfig['http']> {
  if (http.token !== undefined && http.tokenFile !== undefined) {
    throw new ConfigError(origin, 'http.token', 'set either token or tokenFile, not both');
  }
  const token =
    http.tokenFile !== undefined ? readPasswordFile(origin, 'http.tokenFile', http.tokenFile) : http.token;
  return {
    host: http.host,
    port: http.port,
    insecure: http.insecure,
    ...(token === undefined ? {} : { token }),
  };
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
  const top = FileSchema.safeParse(input);
  if (!top.success) throw toConfigError(origin, '', top.error);

  const defaults: Record<string, unknown> = {};
  for (const k of SOURCE_KEYS) if (input[k] !== undefined) defaults[k] = input[k];
  const rawSources: { raw: Record<string, unknown>; prefix: string }[] =
    input['sources'] === undefined
      ? [{ raw: defaults, prefix: '' }]
      : (input['sources'] as Record<string, unknown>[]).map((s, i) => ({
          raw: { ...defaults, ...s },
          prefix: `sources.${i}`,
        }));

  const sources = rawSources.map(({ raw, prefix }) => {
    const key = (k: string): string => (prefix === '' ? k : `${prefix}.${k}`);
    const parsed = SourceSchema.safeParse(raw);
    if (!parsed.success) throw toConfigError(origin, prefix, parsed.error);
    const s = parsed.data;
    const passwordFile = s.passwordFile === '' ? undefined : s.passwordFile;
    const passwordSet = s.password !== undefined && s.password !== '';
    if (passwordSet && passwordFile !== undefined) {
      throw new ConfigError(origin, key('password'), 'set either password or passwordFile, not both');
    }
    const password =
      passwordFile !== undefined
        ? readPasswordFile(origin, key('passwordFile'), passwordFile)
        : (s.password ?? '');
    let localLayout: string;
    try {
      localLayout = compileTemplate(s.localLayout);
    } catch (err) {
      const detail =
        err instanceof InvalidArgumentError ? err.message.replace(/^Invalid localLayout: /, '') : String(err);
      throw new ConfigError(origin, key('localLayout'), detail, { cause: err });
    }
    const layout: Layout = s.layout ?? (s.recursive ? 'recursive' : 'flat');
    const tls =
      s.tls === undefined
        ? null
        : {
            rejectUnauthorized: s.tls.rejectUnauthorized,
            ...(s.tls.caFile === undefined
              ? {}
              : { ca: readPasswordFile(origin, key('tls.caFile'), s.tls.caFile) }),
            ...(s.tls.servername === undefined ? {} : { servername: s.tls.servername }),
          };
    const port = s.port ?? (s.protocol === 'sftp' ? 22 : 21);
    const resolved: SourceConfig = {
      name: sourceName({ ...s, port }),
      protocol: s.protocol,
      host: s.host,
      port,
      username: s.username,
      password,
      sftp: Object.fromEntries(
        Object.entries(s.sftp).filter(([, v]) => v !== undefined),
      ) as SourceConfig['sftp'],
      secure: s.secure,
      tls,
      epsv: s.epsv,
      maxConnections:
        s.maxConnections ??
        (s.maxConcurrentDownloads === 'auto' ? s.autoConcurrencyCap : s.maxConcurrentDownloads),
      timeouts: s.timeouts,
      remotePath: s.remotePath,
      localDir: s.localDir,
      filePattern: s.filePattern,
      layout,
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
      maxConcurrentDownloads: s.maxConcurrentDownloads,
      autoConcurrencyCap: s.autoConcurrencyCap,
      minAge: s.minAge,
      settle: s.settle,
      serverTimeZone: s.serverTimeZone,
      verify: s.verify,
      maxAttempts: s.maxAttempts,
      backoff: s.backoff,
    };
    return resolved;
  });

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

  const g = top.data;
  const first = sources[0];
  if (first === undefined) throw new ConfigError(origin, 'sources', 'must list at least one source');
  const config: DaemonConfig = {
    sources,
    ledger: g.ledger ?? join(first.localDir, '.radarlib', 'ledger.sqlite'),
    callbackConcurrency: g.callbackConcurrency,
    exec: g.exec === undefined ? null : checkedExecHook(origin, g.exec),
    http: g.http === undefined ? null : resolveHttp(origin, g.http),
    logLevel: g.logLevel,
    stopTimeout: g.stopTimeout,
    leaseDuration: g.leaseDuration,
  };
  RESOLVED.add(config);
  return config;
}

// ---------------------------------------------------------------------------------------------
// Environment overrides: RADARLIB_<KEY>, nested keys joined by `__`, camelCase as UPPER_SNAKE.
//   pollInterval            <- RADARLIB_POLL_INTERVAL
//   backoff.initialDelay    <- RADARLIB_BACKOFF__INITIAL_DELAY
//   sources[1].password     <- RADARLIB_SOURCES__1__PASSWORD
// ---------------------------------------------------------------------------------------------

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

export const ENV_PREFIX = 'RADARLIB_';

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

type ValueKind = 'string' | 'number' | 'boolean' | 'list' | 'scalar' | 'object';

interface SchemaLike {
  _zod: {
    def: {
      type: string;
      innerType?: SchemaLike;
      shape?: Record<string, SchemaLike>;
      element?: SchemaLike;
      in?: SchemaLike;
    };
  };
}

function unwrap(s: SchemaLike): SchemaLike {
  let cur = s;
  for (let i = 0; i < 10; i++) {
    const def = cur._zod.def;
    if (
      (def.type === 'default' ||
        def.type === 'optional' ||
        def.type === 'prefault' ||
        def.type === 'nullable') &&
      def.innerType
    ) {
      cur = def.innerType;
    } else if (def.type === 'pipe' && def.in) {
      cur = def.in;
    } else break;
  }
  return cur;
}

/** Walks the schema along `segments` (env form) and returns the key path and the leaf's kind. */
function lookupKey(segments: string[]): { path: (string | number)[]; kind: ValueKind } | null {
  const path: (string | number)[] = [];
  let schema: SchemaLike | null = FileSchema as unknown as SchemaLike;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] ?? '';
    const s = unwrap(schema);
    const def = s._zod.def;
    if (def.type === 'object' && def.shape) {
      const key = keySegment(seg);
      const next = def.shape[key];
      if (next === undefined) return null;
      path.push(key);
      schema = next;
    } else if (def.type === 'array' && /^\d+$/.test(seg) && path[path.length - 1] === 'sources') {
      path.push(Number(seg));
      schema = SourceSchema as unknown as SchemaLike; // a source; keys resolved below
    } else return null;
  }
  const leaf = unwrap(schema)._zod.def.type;
  return { path, kind: kindOf(leaf) };
}

function kindOf(type: string | undefined): ValueKind {
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
      return 'object';
    default:
      return 'scalar';
  }
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
    case 'list': {
      const t = raw.trim();
      if (t.startsWith('[')) {
        try {
          const v: unknown = JSON.parse(t);
          if (Array.isArray(v)) return v.map(String);
        } catch {
          /* fall through to the error */
        }
        throw new ConfigError(origin, key, 'must be a JSON array or a comma-separated list');
      }
      return t === '' ? [] : t.split(',').map((x) => x.trim());
    }
    case 'object':
      throw new ConfigError(origin, key, `is a group of keys; set its members (${name}__<KEY>) instead`);
    case 'scalar': {
      // A union such as `secure` (false | 'explicit') or `maxConcurrentDownloads` (n | 'auto').
      const v = raw.trim();
      if (v === 'false') return false;
      if (v === 'true') return true;
      if (/^\d+$/.test(v)) return Number(v);
      return raw;
    }
  }
}

/**
 * Applies `RADARLIB_*` variables to a raw (parsed, not yet validated) config object, returning a
 * new object and warnings for variables that name no key.
 */
export function applyEnvOverrides(
  raw: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): { config: Record<string, unknown>; applied: string[]; warnings: string[] } {
  const config = structuredClone(raw);
  const applied: string[] = [];
  const warnings: string[] = [];
  env = { ...env };
  for (const [alias, name] of Object.entries(ENV_ALIASES)) {
    if (env[alias] !== undefined && env[name] === undefined) env[name] = env[alias];
  }
  const names = Object.keys(env)
    .filter((n) => n.startsWith(ENV_PREFIX) && !NON_CONFIG_ENV.has(n) && !n.startsWith(NON_CONFIG_PREFIX))
    .sort();
  for (const name of names) {
    const value = env[name];
    if (value === undefined) continue;
    const segments = name.slice(ENV_PREFIX.length).split('__');
    const found = lookupKey(segments);
    if (found === null) {
      warnings.push(`${name} names no config key; ignored`);
      continue;
    }
    const key = found.path.join('.');
    const parsed = parseEnvValue(name, value, found.kind, key);
    let target: Record<string, unknown> | unknown[] = config;
    for (let i = 0; i < found.path.length - 1; i++) {
      const k = found.path[i] as string | number;
      const nextIsIndex = typeof found.path[i + 1] === 'number';
      const container = target as Record<string | number, unknown>;
      let child = container[k];
      if (typeof child !== 'object' || child === null) {
        child = nextIsIndex ? [] : {};
        container[k] = child;
      }
      target = child as Record<string, unknown> | unknown[];
    }
    (target as Record<string | number, unknown>)[found.path[found.path.length - 1] as string | number] =
      parsed;
    applied.push(`${name} -> ${key}`);
  }
  return { config, applied, warnings };
}

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

/** `at line 3, column 7 (BAD_INDENT)` from a YAML parse error, without the quoted source text. */
function yamlErrorPlace(err: unknown): string {
  const e = err as { linePos?: { line: number; col: number }[]; code?: unknown };
  const pos = e.linePos?.[0];
  const where = pos === undefined ? 'somewhere in the file' : `at line ${pos.line}, column ${pos.col}`;
  return typeof e.code === 'string' ? `${where} (${e.code})` : where;
}

/** Reads the file, applies `RADARLIB_*` overrides, validates. @throws ConfigError */
export async function loadDaemonConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  let raw: unknown = {};
  const origin = options.file ?? 'environment';
  if (options.file !== undefined) {
    let text: string;
    try {
      text = await readFile(options.file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new ConfigError(options.file, '', `cannot read the file (${code})`, { cause: err });
    }
    try {
      raw = YAML.parse(text) ?? {};
    } catch (err) {
      // The parser's message quotes the offending line, which may be the password's: give only
      // where it is, and keep the parser's error out of the cause chain (it is logged).
      throw new ConfigError(options.file, '', `not valid YAML ${yamlErrorPlace(err)}`);
    }
  }
  if (!isRecord(raw)) throw new ConfigError(origin, '', 'must be a mapping of keys to values');
  const { config, applied, warnings } = applyEnvOverrides(raw, options.env ?? process.env);
  const origins = applied.length > 0 ? `${origin} + environment` : origin;
  return { config: resolveDaemonConfig(config, { origin: origins }), applied, warnings };
}

/** A copy safe to print or log: passwords, the status token and URL credentials replaced by `[redacted]`. */
export function redactConfig(config: DaemonConfig): DaemonConfig {
  return {
    ...config,
    ledger: redactUrl(config.ledger),
    sources: config.sources.map((s) => ({ ...s, password: s.password === '' ? '' : '[redacted]' })),
    http:
      config.http === null || config.http.token === undefined
        ? config.http
        : { ...config.http, token: '[redacted]' },
  };
}

/** Query parameters that carry credentials in connection URLs (`?password=`, `?sslpassword=`). */
const SECRET_PARAM = /pass|secret|token|key/i;

/**
 * `postgres://user:secret@host/db?password=x` -> `postgres://user:[redacted]@host/db?password=[redacted]`.
 * Parsed with `URL`, so a password holding `@`, `:` or `/` is cut whole; a value that is not a
 * URL (a file path) is returned as is, and a URL too broken to parse loses all of its authority.
 */
export function redactUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Not a URL, or a malformed one: keep only the scheme when it has one.
    return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)\S*$/i, '$1[redacted]');
  }
  const marker = '__radarlib_redacted__';
  let changed = false;
  if (url.password !== '') {
    url.password = marker;
    changed = true;
  }
  for (const key of [...url.searchParams.keys()]) {
    if (SECRET_PARAM.test(key)) {
      url.searchParams.set(key, marker);
      changed = true;
    }
  }
  return changed ? url.toString().split(marker).join('[redacted]') : value;
}
