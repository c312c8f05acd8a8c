/**
 * The configuration's schema: every key a config may hold, its type, range and default, as zod
 * schemas, and the input types derived from them. Validation errors become a `ConfigError`
 * naming the key (`sources.1.port`) and what is wrong. What the keys mean for operators is in
 * docs/DAEMON.md#configuration; the resolved shape is in types.ts.
 *
 * The schemas are built on first use ({@link configSchemas}), not at import: zod and the build
 * cost ~100 ms of CPU that `import 'radarlib'` paid before, also when it never validates a config
 * (docs/PERFORMANCE.md "Session 8: …zod and picomatch").
 */
import type { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { isValidServerTimeZone } from '../server-clock.js';
import type { VerifyFunction } from '../verify.js';
import { loadZod, type Zod } from './zod.js';

/** Value types several keys share. */
function common(z: Zod) {
  return {
    seconds: z.number({ error: 'must be a number of seconds' }).nonnegative('must be >= 0'),
    positiveInt: z.number().int('must be an integer').positive('must be > 0'),
    stringList: z.array(z.string().min(1)).min(1, 'must list at least one name'),
  };
}

type Common = ReturnType<typeof common>;

/** Per-source keys: the server, the login and the connections. */
function connectionShape(z: Zod, { seconds, positiveInt }: Common) {
  return {
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
  };
}

/** Per-source keys: which folders and files a source takes, and where they go. */
function selectionShape(z: Zod, { seconds, positiveInt, stringList }: Common) {
  return {
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
  };
}

/** Per-source keys: how often it lists, how many downloads, readiness and retries. */
function scheduleShape(z: Zod, { seconds, positiveInt }: Common) {
  return {
    pollInterval: z.number({ error: 'must be a number of seconds' }).positive('must be > 0').default(60),
    /** Seconds between listings of the hot folders (newest ones; unsettled ones); 0 turns them off. */
    hotInterval: seconds.default(3),
    /**
     * Listings a minute the source aims to stay within (src/daemon/listing-budget.ts): hot rounds
     * look for new minute folders less often when the rest costs more; 0: no budget.
     */
    listingBudget: z.number({ error: 'must be a number of listings a minute' }).nonnegative().default(60),
    /** A number, or 'auto': grow while throughput rises, up to `autoConcurrencyCap` (src/ftp/adaptive.ts). */
    maxConcurrentDownloads: z.union([positiveInt, z.literal('auto')]).default(5),
    autoConcurrencyCap: positiveInt.default(16),
    /**
     * FTP, numeric `maxConcurrentDownloads` only: a second control connection per download slot
     * sets the next file up while the slot's file arrives (src/ftp/data-connection/slots.ts). Twice the logins.
     */
    overlapSetup: z.boolean().default(false),
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
}

/** Process-wide keys. */
function globalShape(z: Zod, { seconds, positiveInt }: Common) {
  return {
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
}

function buildSchemas(z: Zod) {
  const types = common(z);
  /** Keys every source has (per-source, or inherited from the top level). */
  const sourceShape = {
    ...connectionShape(z, types),
    ...selectionShape(z, types),
    ...scheduleShape(z, types),
  };
  const globals = globalShape(z, types);
  const sourceKeys = Object.keys(sourceShape) as (keyof typeof sourceShape)[];
  return {
    /** One source, as validated after the top-level defaults are merged in. */
    source: z.strictObject(sourceShape),
    /** The whole file: global keys, per-source keys as top-level defaults, and optional `sources`. */
    file: z.strictObject({
      ...globals,
      ...Object.fromEntries(sourceKeys.map((k) => [k, sourceShape[k].optional()])),
      sources: z.array(z.record(z.string(), z.unknown())).min(1, 'must list at least one source').optional(),
    }),
    /** The per-source keys, in the order they are declared. */
    sourceKeys,
    globalShape: globals,
  };
}

/** The config's zod schemas (see {@link configSchemas}). */
export type ConfigSchemas = ReturnType<typeof buildSchemas>;

let schemas: ConfigSchemas | undefined;

/** The config's schemas; the first call loads zod and builds them, later calls return the same. */
export function configSchemas(): ConfigSchemas {
  schemas ??= buildSchemas(loadZod());
  return schemas;
}

/** The keys of one source as written in a config (see docs/DAEMON.md#configuration). */
export type SourceInput = z.input<ConfigSchemas['source']>;
/** The process-wide keys of a config as written (ledger, http, log level, stop timeout...). */
export type GlobalInput = z.input<z.ZodObject<ConfigSchemas['globalShape']>>;

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

/**
 * `input` validated by `schema`, defaults applied. `prefix` is where the input sits in the
 * config (`sources.1`), so the error names the key as written.
 * @throws ConfigError naming the first bad key (and listing the others).
 */
export function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  origin: string,
  prefix: string,
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw toConfigError(origin, prefix, parsed.error);
  return parsed.data;
}
