/**
 * What the multi-instance test and bench/multi-instance.ts share: an FTP server to mirror from,
 * daemon instances as child processes (instance.ts) and a look into their PostgreSQL ledger.
 *
 * The server is a real Debian one when `.ci/install-ftp-servers.sh` installed it (vsftpd first,
 * as most radar networks run it), else the embedded ftp-srv. MULTI_INSTANCE_FTP_SERVER=<kind>|embedded
 * picks one. Every child is killed, at the latest, when this process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  openSync,
  readFileSync,
  readdirSync,
  existsSync,
  statSync,
  writeFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import type { TestContext } from 'node:test';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startEmbeddedFtpServer } from '../../src/demo/embedded-ftp-server.js';
import {
  DEBIAN_SERVER_KINDS,
  debianServerAvailable,
  startDebianServer,
  type DebianServerKind,
} from '../helpers/debian-servers.js';
import type { FileState } from '../../src/ledger/ledger.js';
import { dropSchema, freshSchemaName, postgresAvailable, redactPgUrl } from '../helpers/postgres.js';
import { loginTo } from '../helpers/ftp-login.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(HERE, '..', '..');
export const INSTANCE_SCRIPT = join(HERE, 'instance.ts');

// ---------------------------------------------------------------------------------------------
// the FTP server

export type ServerKind = DebianServerKind | 'embedded';

export interface SourceServer {
  kind: ServerKind;
  host: string;
  port: number;
  user: string;
  password: string;
  /** The server's last log lines (the embedded server: the last commands it received). */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

export interface SourceServerOptions {
  /** Folder served as `/`. */
  root: string;
  /**
   * Bytes/s per data connection (Debian servers), so that transfers last long enough to be cut
   * off by a SIGKILL and to overlap across instances, like downloads over a WAN link.
   */
  rateLimit?: number;
  /** Embedded server only (it has no rate limit): delay before each file's data. */
  readDelayMs?: number;
  /** Passive ports of a Debian server (each transfer leaves one in TIME_WAIT for a minute). */
  passivePorts?: number;
}

const PREFERRED: readonly DebianServerKind[] = ['vsftpd', 'proftpd', 'pureftpd', 'pyftpdlib'];

/** The server kind to use here and, when it is not the preferred Debian one, why. */
export function pickServerKind(env: NodeJS.ProcessEnv = process.env): { kind: ServerKind; note: string } {
  const forced = env['MULTI_INSTANCE_FTP_SERVER'];
  if (forced !== undefined && forced !== '') {
    if (forced === 'embedded') return { kind: 'embedded', note: 'MULTI_INSTANCE_FTP_SERVER=embedded' };
    if (!(DEBIAN_SERVER_KINDS as readonly string[]).includes(forced)) {
      throw new Error(
        `MULTI_INSTANCE_FTP_SERVER must be embedded or one of ${DEBIAN_SERVER_KINDS.join(', ')}`,
      );
    }
    const kind = forced as DebianServerKind;
    const reason = debianServerAvailable(kind);
    if (reason !== null) throw new Error(`MULTI_INSTANCE_FTP_SERVER=${kind}: ${reason}`);
    return { kind, note: `MULTI_INSTANCE_FTP_SERVER=${kind}` };
  }
  const reasons: string[] = [];
  for (const kind of PREFERRED) {
    const reason = debianServerAvailable(kind);
    if (reason === null) return { kind, note: '' };
    reasons.push(reason);
  }
  return { kind: 'embedded', note: `no Debian FTP server (${reasons[0] ?? '?'}); using the embedded one` };
}

export async function startSourceServer(kind: ServerKind, opts: SourceServerOptions): Promise<SourceServer> {
  const server = (
    s: { host: string; port: number; user: string; password: string; stop(): Promise<void> },
    logTail: (lines?: number) => string,
  ): SourceServer => ({
    kind,
    host: s.host,
    port: s.port,
    user: s.user,
    password: s.password,
    logTail,
    stop: () => s.stop(),
  });
  if (kind === 'embedded') {
    const s = await startEmbeddedFtpServer({
      root: opts.root,
      ...(opts.readDelayMs === undefined ? {} : { readDelayMs: opts.readDelayMs }),
    });
    // the embedded server keeps no log: its last commands say what it was asked
    return server(s, (lines = 20) =>
      s.commands
        .slice(-lines)
        .map((c) => `${c.directive} ${c.arg ?? ''}`.trimEnd())
        .join('\n'),
    );
  }
  const s = await startDebianServer(kind, {
    root: opts.root,
    passivePorts: opts.passivePorts ?? 800,
    ...(opts.rateLimit === undefined ? {} : { rateLimit: opts.rateLimit }),
  });
  return server(s, (lines) => s.logTail(lines));
}

// ---------------------------------------------------------------------------------------------
// instance configs and processes

export interface InstanceConfigOptions {
  server: SourceServer;
  /** Folder the source lists on the server. */
  remotePath: string;
  /** The shared download folder. */
  localDir: string;
  /** `postgres://...?schema=...` */
  ledgerUrl: string;
  leaseSeconds: number;
  pollSeconds: number;
  slots: number;
  logLevel?: 'info' | 'warn' | 'debug';
}

/** A daemon config as an operator would write it (JSON is YAML). */
export function instanceConfig(o: InstanceConfigOptions): Record<string, unknown> {
  return {
    ledger: o.ledgerUrl,
    leaseDuration: o.leaseSeconds,
    logLevel: o.logLevel ?? 'info',
    stopTimeout: 10,
    sources: [
      {
        name: 'radar-ftp',
        ...loginTo(o.server),
        remotePath: o.remotePath,
        localDir: o.localDir,
        filePattern: '*.BUFR',
        // The data set is written before the run: every file is complete at once.
        minAge: 0,
        pollInterval: o.pollSeconds,
        maxConcurrentDownloads: o.slots,
        maxAttempts: 10,
        backoff: { initialDelay: 0.2, maxDelay: 1, jitter: 0 },
        timeouts: { connect: 10, command: 15, dataStall: 15 },
      },
    ],
  };
}

export function writeConfig(path: string, config: Record<string, unknown>): void {
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}

export interface Instance {
  name: string;
  pid: number;
  /** When it was spawned (epoch ms). */
  startedAt: number;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly running: boolean;
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last lines of its log. */
  logTail(lines?: number): string;
}

const live = new Set<ChildProcess>();
let exitHook = false;

function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** This process's environment without RADARLIB_* (config overrides must come from the test only). */
function inheritedEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RADARLIB_')));
}

/** Starts `instance.ts` as its own process; its log goes to `<outDir>/<name>.log`. */
export function spawnInstance(opts: {
  name: string;
  configPath: string;
  outDir: string;
  env?: NodeJS.ProcessEnv;
}): Instance {
  installExitHook();
  const logPath = join(opts.outDir, `${opts.name}.log`);
  const fd = openSync(logPath, 'a');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', INSTANCE_SCRIPT, opts.configPath, opts.name, opts.outDir],
    { cwd: REPO_ROOT, stdio: ['ignore', fd, fd], env: { ...inheritedEnv(), ...opts.env } },
  );
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`cannot start instance ${opts.name}`);
  live.add(child);
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.once('exit', (code, signal) => {
      running = false;
      live.delete(child);
      res({ code, signal });
    });
  });
  const instance: Instance = {
    name: opts.name,
    pid: child.pid,
    startedAt: Date.now(),
    exited,
    get running() {
      return running;
    },
    kill: (signal) => {
      if (running) child.kill(signal);
    },
    stop: async (graceMs) => {
      instance.kill('SIGTERM');
      const timer = setTimeout(() => instance.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    logTail: (lines = 20) =>
      existsSync(logPath) ? readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '',
  };
  return instance;
}

/** The JSON lines of a file (missing file: none; a torn last line, as after SIGKILL: skipped). */
export function readJsonLines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  const out: T[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // the line a killed process was writing
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// the ledger, read directly (what an operator would query)

export interface LedgerRow {
  id: number;
  remotePath: string;
  state: FileState;
  localPath: string | null;
  attempts: number;
  lastError: string | null;
  callbackError: string | null;
  leaseOwner: string | null;
  leaseUntil: number | null;
  downloadedAt: number | null;
  processedAt: number | null;
}

/** A connection to the test database with `schema` as the table prefix. */
export class LedgerProbe {
  readonly #client: pg.Client;
  readonly #table: string;

  private constructor(client: pg.Client, schema: string) {
    this.#client = client;
    this.#table = `"${schema}".radarlib_files`;
  }

  static async connect(url: string, schema: string): Promise<LedgerProbe> {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`bad schema name ${schema}`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    client.on('error', () => {});
    await client.connect();
    return new LedgerProbe(client, schema);
  }

  /** Every row, or [] while the first instance has not created the table yet. */
  async rows(): Promise<LedgerRow[]> {
    try {
      const r = await this.#client.query<Record<string, unknown>>(
        `SELECT id, remote_path, state, local_path, attempts, last_error, callback_error, lease_owner,
                lease_until, downloaded_at, processed_at FROM ${this.#table} ORDER BY id`,
      );
      const num = (v: unknown): number | null => (v === null ? null : Number(v));
      return r.rows.map((x) => ({
        id: Number(x['id']),
        remotePath: String(x['remote_path']),
        state: x['state'] as FileState,
        localPath: (x['local_path'] as string | null) ?? null,
        attempts: Number(x['attempts']),
        lastError: (x['last_error'] as string | null) ?? null,
        callbackError: (x['callback_error'] as string | null) ?? null,
        leaseOwner: (x['lease_owner'] as string | null) ?? null,
        leaseUntil: num(x['lease_until']),
        downloadedAt: num(x['downloaded_at']),
        processedAt: num(x['processed_at']),
      }));
    } catch (err) {
      if ((err as { code?: string }).code === '42P01') return []; // undefined_table
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.#client.end().catch(() => {});
  }
}

/** Rows by state. */
export function countStates(rows: readonly LedgerRow[]): Record<FileState, number> {
  const c: Record<FileState, number> = {
    seen: 0,
    ready: 0,
    downloading: 0,
    downloaded: 0,
    processed: 0,
    failed: 0,
    superseded: 0,
    vanished: 0,
  };
  for (const r of rows) c[r.state]++;
  return c;
}

/** The pid in a lease owner (the daemon's `hostname:pid:random`), or null. */
export function ownerPid(row: LedgerRow): number | null {
  const pid = row.leaseOwner?.split(':').at(-2);
  return pid === undefined || !/^\d+$/.test(pid) ? null : Number(pid);
}

/** Rows `pid` holds a claim on right now (state `downloading`, lease owner with that pid). */
export function claimedBy(rows: readonly LedgerRow[], pid: number): LedgerRow[] {
  return rows.filter((r) => r.state === 'downloading' && ownerPid(r) === pid);
}

/**
 * The `.part` files under `dir` (relative path and size). A `.part` renamed or removed while
 * this looks is left out, not an error: the daemons keep working while tests look.
 */
export function partFiles(dir: string): { path: string; size: number }[] {
  const out: { path: string; size: number }[] = [];
  const visit = (d: string, depth: number): void => {
    if (depth > 16) return;
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) visit(p, depth + 1);
      else if (e.name.endsWith('.part')) {
        try {
          out.push({ path: relative(dir, p), size: statSync(p).size });
        } catch {
          // committed or discarded meanwhile
        }
      }
    }
  };
  visit(dir, 0);
  return out.sort((x, y) => x.path.localeCompare(y.path));
}

/**
 * Whether `part` is a `.part` of the file `remotePath` is downloaded to: `<name>.part`, or the
 * daemon's keyed `.<name cut to 80 bytes>.<16 hex>.part` (src/ftp/download.ts partNameFor).
 */
export function isPartOf(part: string, remotePath: string): boolean {
  const name = basename(remotePath);
  const file = basename(part);
  if (file === `${name}.part`) return true;
  let cut = '';
  for (const ch of name) {
    if (Buffer.byteLength(cut + ch) > 80) break;
    cut += ch;
  }
  return file.startsWith(`.${cut}.`) && /^\.[0-9a-f]{16}\.part$/.test(file.slice(cut.length + 1));
}

/**
 * What a multi-instance run looks like right now, for a timeout's message: the ledger by state
 * and its unfinished rows (owner pid, attempts, last error), the `.part` files, each instance's
 * state and log tail, and the server's log tail.
 */
export async function describeRun(
  run: Pick<MultiInstanceRun, 'shared' | 'instances' | 'held'>,
  opts: { rows?: number; logLines?: number } = {},
): Promise<string> {
  const maxRows = opts.rows ?? 12;
  const logLines = opts.logLines ?? 12;
  const lines: string[] = [];
  try {
    const rows = (await run.held.probe?.rows()) ?? [];
    const counts = Object.entries(countStates(rows))
      .filter(([, n]) => n > 0)
      .map(([state, n]) => `${state} ${n}`);
    lines.push(`ledger: ${rows.length} rows (${counts.join(', ') || 'none'})`);
    const open = rows.filter((r) => r.state !== 'processed');
    for (const r of open.slice(0, maxRows)) {
      const owner = ownerPid(r);
      const until =
        r.leaseUntil === null ? '' : ` lease ${((r.leaseUntil - Date.now()) / 1000).toFixed(1)} s`;
      lines.push(
        `  #${r.id} ${basename(r.remotePath)} ${r.state}${owner === null ? '' : ` owner pid ${owner}`}${until} attempts ${r.attempts}${r.lastError === null ? '' : ` last error: ${r.lastError}`}`,
      );
    }
    if (open.length > maxRows) lines.push(`  ... ${open.length - maxRows} more unfinished rows`);
  } catch (err) {
    lines.push(`ledger: cannot read (${err instanceof Error ? err.message : String(err)})`);
  }
  const parts = partFiles(run.shared);
  lines.push(
    `.part files: ${parts.length === 0 ? 'none' : parts.map((f) => `${f.path} (${f.size} B)`).join(', ')}`,
  );
  for (const i of run.instances) {
    const state = i.running ? 'running' : 'exited';
    lines.push(`--- instance ${i.name} (pid ${i.pid}, ${state}) log tail:`, i.logTail(logLines) || '(empty)');
  }
  const server = run.held.server;
  if (server !== undefined) {
    lines.push(
      `--- server ${server.kind} on ${server.host}:${server.port} log tail:`,
      server.logTail(logLines),
    );
  }
  return lines.join('\n');
}

// bench/multi-instance.ts takes it from here.
export { waitUntil } from '../helpers/wait.js';

/** One multi-instance test's world: folders, a fresh ledger schema, and what its cleanup stops. */
export interface MultiInstanceRun {
  base: string;
  /** Folder the FTP server serves. */
  served: string;
  /** The download folder every instance shares. */
  shared: string;
  /** Instance logs and callback records. */
  out: string;
  /** The PostgreSQL server's URL, and the same URL pointing at this run's schema. */
  pgUrl: string;
  schema: string;
  ledgerUrl: string;
  /** Spawned instances and the server/probe the test starts: all stopped by the cleanup. */
  instances: Instance[];
  held: { server?: SourceServer; probe?: LedgerProbe };
}

/**
 * Skips the test, saying why, when PostgreSQL is unreachable (returns null). Otherwise makes the
 * folders and a fresh schema and registers one cleanup: resume paused instances, stop them all,
 * close the probe and the server, drop the schema, remove the folders.
 */
export async function prepareRun(t: TestContext, prefix: string): Promise<MultiInstanceRun | null> {
  const pgProbe = await postgresAvailable();
  if (!pgProbe.ok) {
    t.skip(
      `PostgreSQL unreachable at ${redactPgUrl(pgProbe.url)} (${pgProbe.reason}): run .ci/start-postgres.sh or set RADARLIB_TEST_PG_URL`,
    );
    return null;
  }
  const base = mkdtempSync(join(tmpdir(), prefix));
  const run: MultiInstanceRun = {
    base,
    served: join(base, 'srv'),
    shared: join(base, 'shared'),
    out: join(base, 'out'),
    pgUrl: pgProbe.url,
    schema: freshSchemaName(),
    ledgerUrl: '',
    instances: [],
    held: {},
  };
  for (const d of [run.served, run.shared, run.out]) mkdirSync(d, { recursive: true });
  const url = new URL(pgProbe.url);
  url.searchParams.set('schema', run.schema);
  run.ledgerUrl = url.href;
  t.after(async () => {
    for (const i of run.instances) i.kill('SIGCONT');
    await Promise.all(run.instances.map((i) => i.stop(2000)));
    await run.held.probe?.close();
    await run.held.server?.stop();
    await dropSchema(run.pgUrl, run.schema).catch(() => {});
    rmSync(base, { recursive: true, force: true });
  });
  return run;
}
