/**
 * ProFTPD for the benchmark, optionally inside the WAN network namespace, with every command
 * logged (one line per command, `ExtendedLog`), so the FTP commands each tool sends are counted
 * by the server, the same way for radarlib, lftp and rclone.
 *
 * test/helpers/debian-servers.ts starts the same server for the tests, but only on 127.0.0.1; the
 * WAN run needs it bound to the namespace's address and started with `ip netns exec`, so this is a
 * small launcher with the same configuration (virtual user as nobody, chroot, read-only) plus
 * the command log. Binaries come from .ci/install-ftp-servers.sh (/opt/radarlib-ftp).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const PREFIX = process.env.RADARLIB_FTP_PREFIX ?? '/opt/radarlib-ftp';
export const PROFTPD_BIN = join(PREFIX, 'proftpd-core/usr/sbin/proftpd');
const MODULES = join(PREFIX, 'proftpd-core/usr/lib/proftpd');

export interface BenchServer {
  host: string;
  port: number;
  user: string;
  password: string;
  /** PEM of the self-signed certificate when `tls` was asked for (pass it as `ca`). */
  tlsCertPem?: string;
  /** Commands the server received since the last `resetCommands()` (per verb). */
  commands(): Record<string, number>;
  resetCommands(): void;
  stop(): Promise<void>;
}

export interface BenchServerOptions {
  root: string;
  /** Address to bind (127.0.0.1, or the namespace side of the WAN link). */
  host: string;
  port: number;
  /** Run inside this network namespace. */
  netns?: string;
  /**
   * Offer explicit FTPS (AUTH TLS, TLS 1.2/1.3) with a fresh self-signed certificate for `host`.
   * Data connections may resume the control session (radarlib does) but need not (lftp, rclone).
   */
  tls?: boolean;
}

/** Why proftpd cannot run here, or null. */
export function proftpdUnavailable(): string | null {
  if (!existsSync(PROFTPD_BIN))
    return `proftpd not installed (${PROFTPD_BIN}): run .ci/install-ftp-servers.sh`;
  if (process.getuid?.() !== 0) return 'proftpd needs root (chroot, switch to nobody)';
  return null;
}

function canConnect(host: string, port: number, netns?: string): Promise<boolean> {
  if (netns !== undefined) {
    const r = spawnSync('ip', ['netns', 'exec', netns, 'bash', '-c', `exec 3<>/dev/tcp/${host}/${port}`], {
      stdio: 'ignore',
      timeout: 3000,
    });
    return Promise.resolve(r.status === 0);
  }
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(2000, () => done(false));
  });
}

export async function startProftpd(opts: BenchServerOptions): Promise<BenchServer> {
  const reason = proftpdUnavailable();
  if (reason !== null) throw new Error(reason);
  const state = await mkdtemp(join(tmpdir(), 'radarlib-bench-proftpd-'));
  await chmod(state, 0o711);
  const user = 'bench';
  const password = randomBytes(12).toString('base64url');
  const hash = spawnSync('openssl', ['passwd', '-6', '-stdin'], {
    input: `${password}\n`,
    encoding: 'utf8',
  }).stdout.trim();
  await writeFile(
    join(state, 'ftpd.passwd'),
    `${user}:${hash}:65534:65534:bench:${opts.root}:/usr/sbin/nologin\n`,
    {
      mode: 0o600,
    },
  );
  await writeFile(join(state, 'ftpd.group'), 'nogroup:x:65534:\n', { mode: 0o600 });
  const cmdLog = join(state, 'commands.log');
  const conf = [
    'ServerName "radarlib bench proftpd"',
    'ServerType standalone',
    'DefaultServer on',
    'UseIPv6 off',
    `DefaultAddress ${opts.host}`,
    'SocketBindTight on',
    `Port ${opts.port}`,
    'User nobody',
    'Group nogroup',
    'Umask 022',
    'MaxInstances 300',
    `PidFile ${join(state, 'proftpd.pid')}`,
    `ScoreboardFile ${join(state, 'proftpd.scoreboard')}`,
    `DelayTable ${join(state, 'proftpd.delay')}`,
    'ControlsEngine off',
    'WtmpLog off',
    'TransferLog none',
    `SystemLog ${join(state, 'proftpd.syslog')}`,
    'UseReverseDNS off',
    'TimesGMT on',
    `ModulePath ${MODULES}`,
    'AuthPAM off',
    'AuthOrder mod_auth_file.c',
    `AuthUserFile ${join(state, 'ftpd.passwd')}`,
    `AuthGroupFile ${join(state, 'ftpd.group')}`,
    'RequireValidShell off',
    'DefaultRoot ~',
    `PassivePorts ${opts.port + 1} ${opts.port + 199}`,
    'AllowOverwrite off',
    '<Limit WRITE SITE_CHMOD>',
    '  DenyAll',
    '</Limit>',
    // %m = the command verb; ALL = every command, including the ones before login
    'LogFormat verbs "%m"',
    `ExtendedLog ${cmdLog} ALL verbs`,
  ];
  let tlsCertPem: string | undefined;
  if (opts.tls === true) {
    const keyPath = join(state, 'key.pem');
    const certPath = join(state, 'cert.pem');
    const made = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=radarlib-bench',
       '-addext', `subjectAltName=IP:${opts.host}`, '-keyout', keyPath, '-out', certPath], // prettier-ignore
      { stdio: 'ignore', timeout: 30_000 },
    );
    if (made.status !== 0) throw new Error('openssl could not make the bench certificate');
    tlsCertPem = readFileSync(certPath, 'utf8');
    conf.push(
      'LoadModule mod_tls.c',
      'TLSEngine on',
      'TLSRequired off',
      'TLSProtocol TLSv1.2 TLSv1.3',
      `TLSRSACertificateFile ${certPath}`,
      `TLSRSACertificateKeyFile ${keyPath}`,
      'TLSOptions NoSessionReuseRequired',
      'TLSVerifyClient off',
    );
  }
  const confPath = join(state, 'proftpd.conf');
  await writeFile(confPath, `${conf.join('\n')}\n`, { mode: 0o600 });
  const logFd = openSync(join(state, 'server.log'), 'a');
  const argv = [PROFTPD_BIN, '-n', '-c', confPath];
  const [cmd, args] =
    opts.netns === undefined
      ? [argv[0] as string, argv.slice(1)]
      : ['ip', ['netns', 'exec', opts.netns, ...argv]];
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, { detached: true, stdio: ['ignore', logFd, logFd] });
  } finally {
    closeSync(logFd);
  }
  child.unref();
  const killGroup = (sig: NodeJS.Signals): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, sig);
    } catch {
      // already gone
    }
  };
  const onExit = (): void => killGroup('SIGKILL');
  process.on('exit', onExit);
  const deadline = Date.now() + 15_000;
  while (!(await canConnect(opts.host, opts.port, opts.netns))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      killGroup('SIGKILL');
      const log = readFileSync(join(state, 'server.log'), 'utf8');
      process.off('exit', onExit);
      await rm(state, { recursive: true, force: true });
      throw new Error(`proftpd did not listen on ${opts.host}:${opts.port}: ${log.slice(-2000)}`);
    }
    await sleep(100);
  }
  let offset = 0;
  const read = (): string => (existsSync(cmdLog) ? readFileSync(cmdLog, 'utf8') : '');
  return {
    host: opts.host,
    port: opts.port,
    user,
    password,
    ...(tlsCertPem === undefined ? {} : { tlsCertPem }),
    commands() {
      const counts: Record<string, number> = {};
      for (const line of read().slice(offset).split('\n')) {
        const verb = line.trim().toUpperCase();
        if (verb !== '' && verb !== '-') counts[verb] = (counts[verb] ?? 0) + 1;
      }
      return counts;
    },
    resetCommands() {
      offset = existsSync(cmdLog) ? statSync(cmdLog).size : 0;
    },
    async stop() {
      killGroup('SIGTERM');
      for (let i = 0; i < 30 && child.exitCode === null && child.signalCode === null; i++) await sleep(100);
      killGroup('SIGKILL');
      process.off('exit', onExit);
      await rm(state, { recursive: true, force: true });
    },
  };
}
