/**
 * Real Debian FTP servers on loopback for the client test suite (test/ftp/debian-servers.test.ts).
 *
 * `.ci/install-ftp-servers.sh` installs them: python3-pyftpdlib with apt, and vsftpd, proftpd-core
 * (+ mod_tls) and pure-ftpd unpacked under a prefix (they conflict with each other as packages).
 * `startDebianServer(kind, opts)` picks free ports (control + a passive range), writes the server's
 * config into a temp dir, starts the server as a child process in its own process group (so its
 * forked per-session children die with it) and waits, bounded, until it listens. Servers are killed
 * on `stop()` and, as a last resort, when this process exits.
 *
 * Users: proftpd, pure-ftpd and pyftpdlib use a virtual user (proftpd and pure-ftpd run it as
 * nobody, so the served folder must be world-readable: makeRadarDataset does that). vsftpd only
 * authenticates through PAM, so it gets a system user `radarlibtest` (no home, nologin shell,
 * SHA-512 password: Debian 12's default yescrypt costs ~180 ms per login) and a PAM service file
 * /etc/pam.d/radarlib-vsftpd. Every server chroots the user into `root`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { chmodSync, closeSync, existsSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { chmod, link, mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export type DebianServerKind = 'vsftpd' | 'proftpd' | 'pureftpd' | 'pyftpdlib';

export const DEBIAN_SERVER_KINDS: readonly DebianServerKind[] = [
  'vsftpd',
  'proftpd',
  'pureftpd',
  'pyftpdlib',
];

export interface DebianServerOptions {
  /** Folder served as the user's root (chrooted). Must exist. */
  root: string;
  /** Offer explicit FTPS (AUTH TLS) with a self-signed certificate for IP:127.0.0.1. */
  tls?: 'explicit';
  /**
   * Require TLS on control and data connections, and data connections that resume the control
   * connection's TLS session (vsftpd `require_ssl_reuse=YES`; proftpd's default reuse check).
   * pure-ftpd and pyftpdlib have no reuse check: there it only makes TLS mandatory. Implies `tls`.
   */
  requireSslReuse?: boolean;
  /** Per-IP connection cap; the server answers 421 past it. @default unlimited */
  maxPerIp?: number;
  /** Address the server announces in PASV replies instead of its own (a NAT'd server). */
  pasvAddress?: string;
  /** Let the user upload, delete and create folders (folders under root become 0777). @default false */
  writable?: boolean;
  /**
   * Number of passive data ports. Each transfer leaves its port in TIME_WAIT for a minute and
   * servers then fail to listen on it (proftpd: `425 EPSV: Address already in use`), so many quick
   * transfers need a wide range. @default 100
   */
  passivePorts?: number;
  /**
   * Download speed limit per data connection in bytes/s (vsftpd local_max_rate, proftpd
   * TransferRate, pure-ftpd -t, pyftpdlib ThrottledDTPHandler), so that transfers last long
   * enough to overlap or to be cut off midway. Not combined with TLS on pyftpdlib.
   */
  rateLimit?: number;
  /**
   * List times in this IANA zone's local time instead of UTC (pyftpdlib `use_gmt_times=False`,
   * vsftpd `use_localtime=YES`, proftpd `TimesGMT off`, each run with `TZ`), as the RMA radars'
   * servers do. pyftpdlib and vsftpd render MDTM in that local time too; proftpd keeps MDTM in
   * UTC. Not pure-ftpd.
   */
  listTimeZone?: string;
  /**
   * No MLSD/MLST: clients must read LIST (and its zone). pyftpdlib (MLSD removed) and proftpd
   * (`FactsAdvertise off`: FEAT does not offer MLST, so clients list with LIST).
   */
  listOnly?: boolean;
  /**
   * The user's password, to start a server again with the credentials its clients already hold
   * (a restart). vsftpd's PAM user has one password per machine: there it must be that one.
   * @default a new random one per start
   */
  password?: string;
}

export interface DebianServer {
  kind: DebianServerKind;
  host: '127.0.0.1';
  port: number;
  user: string;
  password: string;
  /** The served folder (absolute). */
  root: string;
  /** Whether the server answers MLSD (vsftpd does not). */
  supportsMlsd: boolean;
  /**
   * Reply code past `maxPerIp`: 421 everywhere but ProFTPD, whose MaxConnectionsPerHost greets
   * with `530 Sorry, the maximum number of connections (N) for your host are already connected.`
   */
  maxPerIpReplyCode: 421 | 530;
  /** PEM of the self-signed certificate, to pass as `ca`, when TLS is on. */
  tlsCertPem?: string;
  /** Inclusive passive port range the server was given. */
  passivePorts: readonly [number, number];
  /** Temp folder with the config, logs and certificate. Removed by stop(). */
  stateDir: string;
  /** Last lines of the server's logs, for failure messages. */
  logTail(lines?: number): string;
  /**
   * The commands the server received so far, in order, as sent (`RETR /data/x`, `REST 4096`),
   * read from the server's own log: vsftpd `log_ftp_protocol`, proftpd `ExtendedLog`,
   * pyftpdlib's command trace. null for pure-ftpd (it logs no commands). PASS is masked.
   * proftpd logs a command when it has finished (a RETR when its transfer ends; one cut off by
   * the client, never).
   */
  receivedCommands(): string[] | null;
  /** Kill the server (and its session processes) and remove its temp folder. Idempotent. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const PREFIX = process.env.RADARLIB_FTP_PREFIX ?? '/opt/radarlib-ftp';
const INSTALL_HINT = 'run .ci/install-ftp-servers.sh';
const PYTHON = '/usr/bin/python3'; // Debian's python: python3-pyftpdlib lives there, not in a pyenv
const VSFTPD_USER = 'radarlibtest';
const VSFTPD_PAM_SERVICE = 'radarlib-vsftpd';
const NOBODY_UID = 65534;
const NOGROUP_GID = 65534;
/** How long a server may take to listen before startDebianServer gives up. */
const LISTEN_TIMEOUT_MS = 15_000;
/** How long stop() waits after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 3_000;
/** Control + passive ports are taken below Linux's default ephemeral range (32768+). */
const PORT_LOW = 20_000;
const PORT_HIGH = 32_000;
const PORT_ATTEMPTS = 30;
const START_ATTEMPTS = 3;

const HERE = dirname(fileURLToPath(import.meta.url));
const PYFTPD_SCRIPT = join(HERE, 'servers', 'pyftpd_server.py');

const BIN = {
  vsftpd: join(PREFIX, 'vsftpd/usr/sbin/vsftpd'),
  proftpd: join(PREFIX, 'proftpd-core/usr/sbin/proftpd'),
  proftpdModules: join(PREFIX, 'proftpd-core/usr/lib/proftpd'),
  pureftpd: join(PREFIX, 'pure-ftpd/usr/sbin/pure-ftpd'),
  purePw: join(PREFIX, 'pure-ftpd/usr/bin/pure-pw'),
} as const;

const MAX_PER_IP_REPLY: Record<DebianServerKind, 421 | 530> = {
  vsftpd: 421,
  proftpd: 530,
  pureftpd: 421,
  pyftpdlib: 421,
};

const SUPPORTS_MLSD: Record<DebianServerKind, boolean> = {
  vsftpd: false,
  proftpd: true,
  pureftpd: true,
  pyftpdlib: true,
};

// ---------------------------------------------------------------------------------------------
// availability

function commandWorks(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
  return r.status === 0;
}

const availabilityCache = new Map<string, string | null>();

/**
 * Why `kind` cannot run here (a sentence for `t.skip`), or null when it can.
 * With `{tls: true}` also checks what FTPS needs (openssl, python3-openssl).
 */
export function debianServerAvailable(kind: DebianServerKind, opts: { tls?: boolean } = {}): string | null {
  const key = `${kind}:${opts.tls === true}`;
  if (!availabilityCache.has(key)) availabilityCache.set(key, checkAvailable(kind, opts.tls === true));
  return availabilityCache.get(key) ?? null;
}

function checkAvailable(kind: DebianServerKind, tls: boolean): string | null {
  if (process.platform !== 'linux') return `${kind} tests need Linux (found ${process.platform})`;
  const needsOpenssl = tls || kind === 'proftpd' || kind === 'pureftpd';
  if (needsOpenssl && !commandWorks('openssl', ['version'])) return `openssl not installed: ${INSTALL_HINT}`;
  if (kind === 'pyftpdlib') {
    if (!existsSync(PYTHON)) return `pyftpdlib not installed (no ${PYTHON}): ${INSTALL_HINT}`;
    if (!commandWorks(PYTHON, ['-c', 'import pyftpdlib'])) return `pyftpdlib not installed: ${INSTALL_HINT}`;
    if (tls && !commandWorks(PYTHON, ['-c', 'import OpenSSL']))
      return `python3-openssl not installed (pyftpdlib FTPS): ${INSTALL_HINT}`;
    return null;
  }
  const bin = BIN[kind];
  if (!existsSync(bin)) return `${kind} not installed: ${INSTALL_HINT}`;
  if (kind === 'pureftpd' && !existsSync(BIN.purePw)) return `pure-pw not installed: ${INSTALL_HINT}`;
  if (kind === 'proftpd' && tls && !existsSync(join(BIN.proftpdModules, 'mod_tls.so')))
    return `proftpd mod_tls not installed (proftpd-mod-crypto): ${INSTALL_HINT}`;
  // chroot, the switch to nobody and (vsftpd) the PAM system user all need root
  if (process.getuid?.() !== 0) return `${kind} needs root (chroot, setuid, PAM user); run the tests as root`;
  return null;
}

// ---------------------------------------------------------------------------------------------
// process bookkeeping: every live server is killed when this process exits

export const live = new Map<number, { stateDir: string }>();
let exitHookInstalled = false;

export function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [pid, { stateDir }] of live) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
      rmSync(stateDir, { recursive: true, force: true });
    }
    live.clear();
  });
}

/**
 * The server runs under a small bash guard, the leader of its own process group. The guard's
 * stdin is a pipe from this process: when this process dies in any way (even SIGKILL, when no
 * exit hook runs) the pipe closes and the guard kills the whole group. (PR_SET_PDEATHSIG is not
 * enough: the kernel clears it when proftpd and pure-ftpd change their user ids.) When the
 * server exits by itself, the guard logs its status and ends the group, so a failed start shows.
 */
const GUARD = [
  // (background jobs get /dev/null as stdin unless redirected: keep the pipe on fd 3)
  'exec 3<&0',
  '"$@" </dev/null 3<&- &',
  'srv=$!',
  '{ cat <&3 >/dev/null; kill -KILL 0; } &',
  'exec 3<&-',
  'wait "$srv"',
  'echo "[radarlib guard] server exited with status $?" >&2',
  'kill -KILL 0',
].join('\n');

export function launch(
  cmd: string,
  args: string[],
  logPath: string,
  env: Record<string, string> = {},
): ChildProcess {
  const fd = openSync(logPath, 'a');
  try {
    const child = spawn('/bin/bash', ['-c', GUARD, 'radarlib-guard', cmd, ...args], {
      detached: true, // own process group: stop() kills the server's session children too
      stdio: ['pipe', fd, fd],
      env: { ...process.env, ...env },
    });
    child.on('error', () => {
      // spawn failures (ENOENT...) show up as a missing pid / exit in waitListening
    });
    child.stdin?.on('error', () => undefined); // EPIPE once the guard is gone
    child.unref();
    // the pipe must not keep this process alive either
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return child;
  } finally {
    closeSync(fd);
  }
}

export async function killGroup(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const exited = child.exitCode !== null || child.signalCode !== null;
  const gone = exited ? Promise.resolve() : new Promise<void>((res) => child.once('exit', () => res()));
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      // group already empty
    }
  };
  signal('SIGTERM');
  const timer = sleep(STOP_GRACE_MS).then(() => 'timeout' as const);
  if ((await Promise.race([gone.then(() => 'gone' as const), timer])) === 'timeout') {
    signal('SIGKILL');
    await Promise.race([gone, sleep(STOP_GRACE_MS)]);
  }
  // session children may outlive a master that exited on SIGTERM
  signal('SIGKILL');
}

// ---------------------------------------------------------------------------------------------
// ports

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen({ host: HOST, port, exclusive: true }, () => srv.close(() => res(true)));
  });
}

/** A control port followed by `count` passive ports, all free right now. */
export async function pickPorts(count: number): Promise<{ control: number; pasv: [number, number] }> {
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const base = randomInt(PORT_LOW, PORT_HIGH - count - 1);
    let ok = true;
    for (let p = base; p <= base + count && ok; p++) ok = await portFree(p);
    if (ok) return { control: base, pasv: [base + 1, base + count] };
  }
  throw new Error(
    `no ${count + 1} consecutive free ports in ${PORT_LOW}-${PORT_HIGH} after ${PORT_ATTEMPTS} tries`,
  );
}

/** True when something listens on 127.0.0.1:port (read from /proc, so no connection is made). */
function listening(port: number): boolean {
  const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let table: string;
  try {
    table = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return false;
  }
  // columns: sl local_address rem_address st ...; st 0A = LISTEN
  return table.split('\n').some((line) => {
    const cols = line.trim().split(/\s+/);
    return cols[1] === want && cols[3] === '0A';
  });
}

// ---------------------------------------------------------------------------------------------
// shared pieces: TLS certificate, password hashes, folder permissions

export function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => {
      clearTimeout(timer);
      rej(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) res(out);
      else rej(new Error(`${cmd} ${args[0] ?? ''} exited ${code}: ${err.trim()}`));
    });
    // A child that exits without reading its stdin (EPIPE) fails by its exit code, not here.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

let certPromise: Promise<{ cert: string; key: string }> | undefined;

/** One self-signed certificate per test process (RSA 2048 takes a moment), copied into each server. */
function selfSignedCert(): Promise<{ cert: string; key: string }> {
  certPromise ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'radarlib-cert-'));
    try {
      const keyPath = join(dir, 'key.pem');
      const certPath = join(dir, 'cert.pem');
      await run('openssl', [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '7', '-subj', '/CN=radarlib-test',
        '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout', keyPath, '-out', certPath,
      ]); // prettier-ignore
      return { cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8') };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return certPromise;
}

/** SHA-512 crypt(3) hash, accepted by proftpd's AuthUserFile and pure-ftpd's PureDB. */
async function sha512Crypt(password: string): Promise<string> {
  return (await run('openssl', ['passwd', '-6', '-stdin'], `${password}\n`)).trim();
}

/** The servers drop to nobody (or radarlibtest): every ancestor of root must be traversable. */
function ensureTraversable(root: string): void {
  const tmp = resolve(tmpdir());
  for (let dir = root; ; dir = dirname(dir)) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) {
      if (dir === tmp || dir.startsWith(`${tmp}/`)) chmodSync(dir, (mode & 0o7777) | 0o011);
      else throw new Error(`${dir} is not traversable by other users (mode ${(mode & 0o777).toString(8)})`);
    }
    if (dir === dirname(dir)) break;
  }
}

/** writable: make every folder under root writable by the server's unprivileged user. */
async function makeWritable(dir: string, depth = 0): Promise<void> {
  if (depth > 32) return;
  await chmod(dir, 0o777);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) await makeWritable(join(dir, e.name), depth + 1);
  }
}

// ---------------------------------------------------------------------------------------------
// per-server launchers: write the config, start the process

interface LaunchContext {
  opts: DebianServerOptions & { root: string };
  stateDir: string;
  logPath: string;
  port: number;
  pasv: [number, number];
  user: string;
  password: string;
  tls: boolean;
  certPath: string;
  keyPath: string;
  /** Extra log files worth showing when the server fails. */
  extraLogs: string[];
  /** The server's log of received commands and how to read one command per line, if any. */
  commandLog?: { path: string; command: (line: string) => string | null };
}

/** The command of a vsftpd protocol-log line (`... FTP command: Client "127.0.0.1", "RETR /x"`). */
function vsftpdCommand(line: string): string | null {
  return /FTP command: Client "[^"]*", "(.*)"$/.exec(line)?.[1] ?? null;
}

/** The command of a pyftpdlib debug line (`DEBUG:pyftpdlib:127.0.0.1:4242-[radarlib] <- RETR /x`). */
function pyftpdlibCommand(line: string): string | null {
  return /\] <- (.*)$/.exec(line)?.[1] ?? null;
}

function readCommands(log: { path: string; command: (line: string) => string | null }): string[] {
  let text: string;
  try {
    text = readFileSync(log.path, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').flatMap((l) => {
    const c = log.command(l);
    return c === null ? [] : [c];
  });
}

let vsftpdUserPromise: Promise<string> | undefined;

/**
 * Runs a shadow-utils command (useradd, chpasswd), again while it fails because another process
 * holds the lock on /etc/passwd or /etc/shadow (parallel test files set up the user at once).
 */
async function shadowTool(cmd: string, args: string[], input?: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run(cmd, args, input);
    } catch (err) {
      if (attempt >= 10 || !/lock|try again/i.test((err as Error).message)) throw err;
      await sleep(100 * attempt);
    }
  }
}

/**
 * The vsftpd user's password, the same for every test process on this machine: the first one
 * writes it, whole, to a temporary file and links it into place (`link` fails when another process
 * was first), so no process ever reads a file still being written.
 */
async function sharedVsftpdPassword(): Promise<string> {
  const pwFile = join(PREFIX, `.${VSFTPD_USER}.password`);
  const tmp = `${pwFile}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const password = randomBytes(18).toString('base64url');
  await writeFile(tmp, `${password}\n`, { mode: 0o600 });
  try {
    await link(tmp, pwFile);
    return password;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    await rm(tmp, { force: true });
  }
  const stored = (await readFile(pwFile, 'utf8')).trim();
  if (stored === '') throw new Error(`${pwFile} is empty: remove it and run the tests again`);
  return stored;
}

/** Whether the user's /etc/shadow hash is already that of `password` (then chpasswd is not run). */
async function shadowHashMatches(user: string, password: string): Promise<boolean> {
  let hash: string | undefined;
  try {
    const line = readFileSync('/etc/shadow', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${user}:`));
    hash = line?.split(':')[1];
  } catch {
    return false;
  }
  const salt = /^\$6\$([^$]+)\$/.exec(hash ?? '')?.[1];
  if (salt === undefined) return false;
  const again = await run('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], `${password}\n`);
  return again.trim() === hash;
}

/** Creates (once) the PAM system user vsftpd logs in and returns its password. */
function vsftpdUser(): Promise<string> {
  vsftpdUserPromise ??= (async () => {
    // vsftpd changes into the home folder before local_root, so the home must exist: use '/'
    const id = spawnSync('id', ['-u', VSFTPD_USER], { stdio: 'ignore' });
    if (id.status !== 0) {
      try {
        await shadowTool('useradd', [
          '--system', '--no-create-home', '--home-dir', '/', '--shell', '/usr/sbin/nologin', VSFTPD_USER,
        ]); // prettier-ignore
      } catch (err) {
        // created meanwhile by a parallel test process (useradd exits 9)
        if (spawnSync('id', ['-u', VSFTPD_USER], { stdio: 'ignore' }).status !== 0)
          throw new Error(`useradd ${VSFTPD_USER} failed: ${(err as Error).message}`);
      }
    }
    // The password is random per machine and kept root-only beside the servers, so parallel
    // test processes agree on it without it being a constant in the repository. /etc/shadow is
    // only rewritten when it does not hold it yet (first use, or a machine reset): a rewrite per
    // test process raced with the other processes' chpasswd and logins.
    const password = await sharedVsftpdPassword();
    if (!(await shadowHashMatches(VSFTPD_USER, password)))
      await shadowTool('chpasswd', ['-c', 'SHA512'], `${VSFTPD_USER}:${password}\n`);
    const pam = [
      '# written by radarlib test/helpers/debian-servers.ts (vsftpd test user)',
      'auth    required pam_unix.so',
      'account required pam_unix.so',
      'session required pam_permit.so',
      '',
    ].join('\n');
    const pamPath = `/etc/pam.d/${VSFTPD_PAM_SERVICE}`;
    if (!existsSync(pamPath) || readFileSync(pamPath, 'utf8') !== pam) {
      // written aside and renamed: a login of a parallel process never reads half a file
      const tmp = `${pamPath}.${process.pid}.tmp`;
      await writeFile(tmp, pam, { mode: 0o644 });
      await rename(tmp, pamPath);
    }
    return password;
  })();
  vsftpdUserPromise.catch(() => (vsftpdUserPromise = undefined));
  return vsftpdUserPromise;
}

async function startVsftpd(c: LaunchContext): Promise<ChildProcess> {
  const empty = join(c.stateDir, 'empty');
  await mkdir(empty, { mode: 0o755 });
  const log = join(c.stateDir, 'vsftpd.log');
  c.extraLogs.push(log);
  c.commandLog = { path: log, command: vsftpdCommand };
  const lines = [
    'listen=YES',
    'listen_ipv6=NO',
    `listen_address=${HOST}`,
    `listen_port=${c.port}`,
    'background=NO',
    'anonymous_enable=NO',
    'local_enable=YES',
    `write_enable=${c.opts.writable === true ? 'YES' : 'NO'}`,
    'local_umask=022',
    `local_root=${c.opts.root}`,
    'chroot_local_user=YES',
    'allow_writeable_chroot=YES',
    `secure_chroot_dir=${empty}`,
    `pam_service_name=${VSFTPD_PAM_SERVICE}`,
    'nopriv_user=nobody',
    'pasv_enable=YES',
    `pasv_min_port=${c.pasv[0]}`,
    `pasv_max_port=${c.pasv[1]}`,
    'port_enable=YES',
    'seccomp_sandbox=NO',
    'isolate_network=NO',
    `use_localtime=${c.opts.listTimeZone === undefined ? 'NO' : 'YES'}`,
    'dirmessage_enable=NO',
    'hide_ids=NO',
    'max_clients=0',
    `max_per_ip=${c.opts.maxPerIp ?? 0}`,
    'utf8_filesystem=YES',
    'xferlog_enable=YES',
    'xferlog_std_format=NO',
    'log_ftp_protocol=YES',
    `vsftpd_log_file=${log}`,
  ];
  if (c.opts.pasvAddress !== undefined)
    lines.push(`pasv_address=${c.opts.pasvAddress}`, 'pasv_addr_resolve=NO');
  if (c.opts.rateLimit !== undefined) lines.push(`local_max_rate=${c.opts.rateLimit}`);
  if (c.tls) {
    const strict = c.opts.requireSslReuse === true;
    lines.push(
      'ssl_enable=YES',
      `rsa_cert_file=${c.certPath}`,
      `rsa_private_key_file=${c.keyPath}`,
      'allow_anon_ssl=NO',
      `force_local_logins_ssl=${strict ? 'YES' : 'NO'}`,
      `force_local_data_ssl=${strict ? 'YES' : 'NO'}`,
      `require_ssl_reuse=${strict ? 'YES' : 'NO'}`,
      'ssl_tlsv1=YES',
      'ssl_sslv2=NO',
      'ssl_sslv3=NO',
      'ssl_ciphers=HIGH',
      'debug_ssl=YES',
    );
  }
  const conf = join(c.stateDir, 'vsftpd.conf');
  await writeFile(conf, `${lines.join('\n')}\n`, { mode: 0o600 });
  return launch(
    BIN.vsftpd,
    [conf],
    c.logPath,
    c.opts.listTimeZone === undefined ? {} : { TZ: c.opts.listTimeZone },
  );
}

async function startProftpd(c: LaunchContext): Promise<ChildProcess> {
  const passwd = join(c.stateDir, 'ftpd.passwd');
  const group = join(c.stateDir, 'ftpd.group');
  const hash = await sha512Crypt(c.password);
  // mod_auth_file virtual user running as nobody:nogroup, home (and chroot) = root
  await writeFile(
    passwd,
    `${c.user}:${hash}:${NOBODY_UID}:${NOGROUP_GID}:radarlib test:${c.opts.root}:/usr/sbin/nologin\n`,
    {
      mode: 0o600,
    },
  );
  await writeFile(group, `nogroup:x:${NOGROUP_GID}:\n`, { mode: 0o600 });
  const syslog = join(c.stateDir, 'proftpd.syslog');
  const tlslog = join(c.stateDir, 'proftpd.tls.log');
  const cmdlog = join(c.stateDir, 'proftpd.commands.log');
  c.extraLogs.push(syslog, tlslog);
  c.commandLog = { path: cmdlog, command: (line) => (line === '' ? null : line) };
  const lines = [
    'ServerName "radarlib test proftpd"',
    'ServerType standalone',
    'DefaultServer on',
    'UseIPv6 off',
    `DefaultAddress ${HOST}`,
    'SocketBindTight on',
    `Port ${c.port}`,
    'User nobody',
    'Group nogroup',
    'Umask 022',
    'MaxInstances 300',
    `PidFile ${join(c.stateDir, 'proftpd.pid')}`,
    `ScoreboardFile ${join(c.stateDir, 'proftpd.scoreboard')}`,
    `DelayTable ${join(c.stateDir, 'proftpd.delay')}`,
    'ControlsEngine off',
    'WtmpLog off',
    'TransferLog none',
    `SystemLog ${syslog}`,
    'UseReverseDNS off',
    // Local time (TZ of the process) when asked, as `listTimeZone` says; MDTM stays UTC.
    `TimesGMT ${c.opts.listTimeZone === undefined ? 'on' : 'off'}`,
    // One line per command as the client sent it (%r hides PASS): receivedCommands().
    'LogFormat radarlibcommands "%r"',
    `ExtendedLog ${cmdlog} ALL radarlibcommands`,
    ...(c.opts.listOnly === true ? ['FactsAdvertise off'] : []),
    `ModulePath ${BIN.proftpdModules}`,
    'AuthPAM off',
    'AuthOrder mod_auth_file.c',
    `AuthUserFile ${passwd}`,
    `AuthGroupFile ${group}`,
    'RequireValidShell off',
    'DefaultRoot ~',
    `PassivePorts ${c.pasv[0]} ${c.pasv[1]}`,
  ];
  if (c.opts.maxPerIp !== undefined) {
    lines.push(`MaxConnectionsPerHost ${c.opts.maxPerIp}`);
  }
  if (c.opts.pasvAddress !== undefined) lines.push(`MasqueradeAddress ${c.opts.pasvAddress}`);
  // TransferRate is in KiB/s
  if (c.opts.rateLimit !== undefined) lines.push(`TransferRate RETR ${(c.opts.rateLimit / 1024).toFixed(3)}`);
  if (c.opts.writable === true) lines.push('AllowOverwrite on');
  else lines.push('AllowOverwrite off', '<Limit WRITE SITE_CHMOD>', '  DenyAll', '</Limit>');
  if (c.tls) {
    const strict = c.opts.requireSslReuse === true;
    lines.push(
      'LoadModule mod_tls.c',
      '<IfModule mod_tls.c>',
      '  TLSEngine on',
      `  TLSRequired ${strict ? 'on' : 'off'}`,
      '  TLSProtocol TLSv1.2 TLSv1.3',
      `  TLSRSACertificateFile ${c.certPath}`,
      `  TLSRSACertificateKeyFile ${c.keyPath}`,
      // without NoSessionReuseRequired, proftpd refuses data connections that do not resume
      // the control connection's TLS session
      ...(strict ? [] : ['  TLSOptions NoSessionReuseRequired']),
      '  TLSVerifyClient off',
      `  TLSLog ${tlslog}`,
      '</IfModule>',
    );
  }
  const conf = join(c.stateDir, 'proftpd.conf');
  await writeFile(conf, `${lines.join('\n')}\n`, { mode: 0o600 });
  return launch(
    BIN.proftpd,
    ['-n', '-c', conf],
    c.logPath,
    c.opts.listTimeZone === undefined ? {} : { TZ: c.opts.listTimeZone },
  );
}

async function startPureftpd(c: LaunchContext): Promise<ChildProcess> {
  // `pure-pw useradd` hashes with argon2id (~2 s per login on a small VM); PureDB accepts any
  // crypt(3) hash, so write the passwd line with SHA-512 crypt. Home ending in /./ = chroot there.
  const hash = await sha512Crypt(c.password);
  const passwd = join(c.stateDir, 'pureftpd.passwd');
  const pdb = join(c.stateDir, 'pureftpd.pdb');
  await writeFile(passwd, `${c.user}:${hash}:${NOBODY_UID}:${NOGROUP_GID}::${c.opts.root}/./::::::::::::\n`, {
    mode: 0o600,
  });
  await run(BIN.purePw, ['mkdb', pdb, '-f', passwd]);
  // -E no anonymous, -A chroot everyone, -H no DNS, -u 1 lowest uid allowed, -c max clients,
  // -C max per IP, -L max files:depth listed, -f none: no syslog
  const args = ['-S', `${HOST},${c.port}`, '-p', `${c.pasv[0]}:${c.pasv[1]}`, '-l', `puredb:${pdb}`];
  args.push(
    '-E',
    '-A',
    '-H',
    '-u',
    '1',
    '-c',
    '300',
    '-C',
    String(c.opts.maxPerIp ?? 300),
    '-L',
    '100000:20',
  );
  args.push('-g', join(c.stateDir, 'pure-ftpd.pid'));
  if (c.opts.pasvAddress !== undefined) args.push('-P', c.opts.pasvAddress);
  // -T: bandwidth per (non-anonymous) user session in KiB/s
  if (c.opts.rateLimit !== undefined)
    args.push('-T', String(Math.max(1, Math.round(c.opts.rateLimit / 1024))));
  if (c.tls) {
    // -Y 1: TLS optional; 3: TLS required on control and data. -2: cert+key in one PEM
    const combined = join(c.stateDir, 'combined.pem');
    await writeFile(combined, `${await readFile(c.certPath, 'utf8')}${await readFile(c.keyPath, 'utf8')}`, {
      mode: 0o600,
    });
    args.push('-Y', c.opts.requireSslReuse === true ? '3' : '1', '-2', combined);
  }
  return launch(BIN.pureftpd, args, c.logPath);
}

async function startPyftpdlib(c: LaunchContext): Promise<ChildProcess> {
  const pwFile = join(c.stateDir, 'password');
  await writeFile(pwFile, `${c.password}\n`, { mode: 0o600 });
  const args = [PYFTPD_SCRIPT, '--bind', HOST, '--port', String(c.port), '--root', c.opts.root];
  args.push('--user', c.user, '--password-file', pwFile, '--pasv', `${c.pasv[0]}-${c.pasv[1]}`);
  if (c.opts.writable === true) args.push('--writable');
  if (c.opts.maxPerIp !== undefined) args.push('--max-per-ip', String(c.opts.maxPerIp));
  if (c.opts.pasvAddress !== undefined) args.push('--masquerade', c.opts.pasvAddress);
  if (c.opts.rateLimit !== undefined) args.push('--rate-limit', String(Math.round(c.opts.rateLimit)));
  if (c.tls) {
    args.push('--tls-cert', c.certPath, '--tls-key', c.keyPath);
    if (c.opts.requireSslReuse === true) args.push('--tls-required');
  }
  if (c.opts.listTimeZone !== undefined) args.push('--local-times');
  if (c.opts.listOnly === true) args.push('--list-only');
  c.commandLog = { path: c.logPath, command: pyftpdlibCommand };
  // -I: ignore PYTHON* variables and user site-packages of the caller's environment
  return launch(
    PYTHON,
    ['-I', ...args],
    c.logPath,
    c.opts.listTimeZone === undefined ? {} : { TZ: c.opts.listTimeZone },
  );
}

const LAUNCHERS: Record<DebianServerKind, (c: LaunchContext) => Promise<ChildProcess>> = {
  vsftpd: startVsftpd,
  proftpd: startProftpd,
  pureftpd: startPureftpd,
  pyftpdlib: startPyftpdlib,
};

// ---------------------------------------------------------------------------------------------

export function tail(paths: string[], lines: number): string {
  const parts: string[] = [];
  for (const p of paths) {
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch {
      continue;
    }
    const last = text.trimEnd().split('\n').slice(-lines).join('\n');
    if (last !== '') parts.push(`--- ${p}\n${last}`);
  }
  return parts.join('\n') || '(no log output)';
}

function validate(kind: DebianServerKind, opts: DebianServerOptions): void {
  if (!DEBIAN_SERVER_KINDS.includes(kind)) throw new Error(`unknown server kind ${String(kind)}`);
  if (opts.maxPerIp !== undefined && (!Number.isInteger(opts.maxPerIp) || opts.maxPerIp < 1))
    throw new Error(`maxPerIp must be a positive integer, got ${opts.maxPerIp}`);
  if (opts.pasvAddress !== undefined && !/^\d{1,3}(\.\d{1,3}){3}$/.test(opts.pasvAddress))
    throw new Error(`pasvAddress must be an IPv4 address, got ${opts.pasvAddress}`);
  if (opts.password !== undefined && !/^[\w-]{8,64}$/.test(opts.password))
    throw new Error('password must be 8-64 of [A-Za-z0-9_-]');
  if (opts.rateLimit !== undefined && !(opts.rateLimit >= 1024))
    throw new Error(`rateLimit must be >= 1024 bytes/s, got ${opts.rateLimit}`);
  if (
    kind === 'pyftpdlib' &&
    opts.rateLimit !== undefined &&
    (opts.tls !== undefined || opts.requireSslReuse === true)
  )
    throw new Error('pyftpdlib: rateLimit cannot be combined with TLS in this helper');
  if (kind === 'pureftpd' && opts.listTimeZone !== undefined)
    throw new Error(`${kind}: listTimeZone is a pyftpdlib, vsftpd and proftpd option in this helper`);
  if (kind !== 'pyftpdlib' && kind !== 'proftpd' && opts.listOnly === true)
    throw new Error(
      `${kind}: listOnly is a pyftpdlib and proftpd option in this helper (vsftpd has no MLSD anyway)`,
    );
  const n = opts.passivePorts ?? 100;
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new Error(`passivePorts must be 1..1000, got ${n}`);
}

/**
 * Start one real server on 127.0.0.1 serving `opts.root`. Resolves once it listens; throws (with
 * the server's log tail) when it does not within 15 s. Check `debianServerAvailable(kind)` first.
 */
export async function startDebianServer(
  kind: DebianServerKind,
  opts: DebianServerOptions,
): Promise<DebianServer> {
  validate(kind, opts);
  const reason = debianServerAvailable(kind, {
    tls: opts.tls === 'explicit' || opts.requireSslReuse === true,
  });
  if (reason !== null) throw new Error(reason);
  const root = resolve(opts.root);
  if (!statSync(root).isDirectory()) throw new Error(`root ${root} is not a folder`);
  ensureTraversable(root);
  if (opts.writable === true) await makeWritable(root);
  installExitHook();

  const tls = opts.tls === 'explicit' || opts.requireSslReuse === true;
  const cert = tls ? await selfSignedCert() : undefined;
  const user = kind === 'vsftpd' ? VSFTPD_USER : 'radarlib';
  const password =
    kind === 'vsftpd' ? await vsftpdUser() : (opts.password ?? randomBytes(12).toString('base64url'));
  if (opts.password !== undefined && opts.password !== password)
    throw new Error("vsftpd: its password is its PAM user's, one per machine, not the one asked for");

  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const stateDir = await mkdtemp(join(tmpdir(), `radarlib-${kind}-`));
    await chmod(stateDir, 0o711); // servers reach their files after dropping to nobody
    const certPath = join(stateDir, 'cert.pem');
    const keyPath = join(stateDir, 'key.pem');
    if (cert !== undefined) {
      await writeFile(certPath, cert.cert, { mode: 0o644 });
      await writeFile(keyPath, cert.key, { mode: 0o600 });
    }
    const { control, pasv } = await pickPorts(opts.passivePorts ?? 100);
    const ctx: LaunchContext = {
      opts: { ...opts, root },
      stateDir,
      logPath: join(stateDir, 'server.log'),
      port: control,
      pasv,
      user,
      password,
      tls,
      certPath,
      keyPath,
      extraLogs: [],
    };
    const child = await LAUNCHERS[kind](ctx);
    const logs = [ctx.logPath, ...ctx.extraLogs];
    if (child.pid !== undefined) live.set(child.pid, { stateDir });
    const up = await waitListening(child, control);
    if (up === true) {
      let stopped: Promise<void> | undefined;
      const server: DebianServer = {
        kind,
        host: HOST,
        port: control,
        user,
        password,
        root,
        supportsMlsd: SUPPORTS_MLSD[kind],
        maxPerIpReplyCode: MAX_PER_IP_REPLY[kind],
        passivePorts: pasv,
        stateDir,
        logTail: (lines = 30) => tail(logs, lines),
        receivedCommands: () => (ctx.commandLog === undefined ? null : readCommands(ctx.commandLog)),
        stop: () =>
          (stopped ??= (async () => {
            await killGroup(child);
            if (child.pid !== undefined) live.delete(child.pid);
            await rm(stateDir, { recursive: true, force: true });
          })()),
      };
      if (cert !== undefined) server.tlsCertPem = cert.cert;
      return server;
    }
    const logText = tail(logs, 30);
    await killGroup(child);
    if (child.pid !== undefined) live.delete(child.pid);
    await rm(stateDir, { recursive: true, force: true });
    lastError = new Error(`${kind} did not listen on ${HOST}:${control} ${up}; log tail:\n${logText}`);
    // a port taken between the check and the server's bind: try other ports
    if (!/in use|EADDRINUSE|Address already|bind/i.test(logText)) break;
  }
  throw lastError ?? new Error(`${kind} did not start`);
}

/** true once listening, else a phrase saying why not (exited / timed out). */
export async function waitListening(child: ChildProcess, port: number): Promise<true | string> {
  const deadline = Date.now() + LISTEN_TIMEOUT_MS;
  if (child.pid === undefined) return '(it could not be spawned)';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      return `(it exited with ${child.exitCode ?? child.signalCode})`;
    }
    if (listening(port)) return true;
    await sleep(50);
  }
  return `within ${LISTEN_TIMEOUT_MS} ms`;
}
