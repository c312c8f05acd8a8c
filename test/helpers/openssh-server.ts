/**
 * Debian's OpenSSH `sshd` on loopback for the SFTP tests (test/sftp/openssh.test.ts): its own
 * sshd_config, a fresh ed25519 host key, and a system user `radarlibsftp` that logs in with a
 * password or with a passphrase-protected ed25519 key, chrooted (`ChrootDirectory`,
 * `ForceCommand internal-sftp`) to a folder the test fills.
 *
 * sshd insists that every component of the chroot path is root-owned and not writable by others,
 * so the chroot lives under /run (not /tmp, which is world-writable). The process is started,
 * guarded and killed as the FTP servers are (debian-servers.ts). `.ci/install-sshd.sh` installs
 * openssh-server; without it, or without root, `opensshAvailable()` says why and the tests skip.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import {
  installExitHook,
  killGroup,
  launch,
  live,
  pickPorts,
  run,
  tail,
  waitListening,
} from './debian-servers.js';

const SSHD = '/usr/sbin/sshd';
const USER = 'radarlibsftp';
const RUN_DIR = '/run/radarlib-sshd';
/** For tools that read no input (run() writes stdin, which races with a quick exit: EPIPE). */
const exec = promisify(execFile);
const HINT = 'run .ci/install-sshd.sh (apt-get install openssh-server)';

export interface OpenSshServer {
  host: string;
  port: number;
  username: string;
  password: string;
  /** The chroot: what the SFTP user sees as `/`. Root-owned; write test files here as root. */
  root: string;
  /** The user's ed25519 private key (OpenSSH format, encrypted with `passphrase`). */
  privateKeyFile: string;
  passphrase: string;
  /** A known_hosts file holding this server's host key, hashed as `ssh-keyscan -H` writes it. */
  knownHosts: string;
  /** The last lines of sshd's log (internal-sftp logs each open and close with the bytes read). */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

/** Why sshd cannot run here (a sentence for `t.skip`), or null when it can. */
export function opensshAvailable(): string | null {
  if (process.platform !== 'linux') return `sshd tests need Linux (found ${process.platform})`;
  if (!existsSync(SSHD)) return `OpenSSH server not installed (no ${SSHD}): ${HINT}`;
  if (spawnSync('ssh-keygen', ['-?'], { stdio: 'ignore' }).error !== undefined)
    return `ssh-keygen missing: ${HINT}`;
  if (spawnSync('ssh-keyscan', ['-?'], { stdio: 'ignore' }).error !== undefined)
    return `ssh-keyscan missing: ${HINT}`;
  if (process.getuid?.() !== 0) return 'sshd tests need root (chroot, a system user); run the tests as root';
  return null;
}

let userPromise: Promise<string> | undefined;

/** Creates (once) the system user and returns its password (random per machine, root-only). */
function sftpUser(): Promise<string> {
  userPromise ??= (async () => {
    if (spawnSync('id', ['-u', USER], { stdio: 'ignore' }).status !== 0) {
      const r = spawnSync(
        'useradd',
        ['--system', '--no-create-home', '--home-dir', '/', '--shell', '/usr/sbin/nologin', USER],
        { encoding: 'utf8', timeout: 30_000 },
      );
      // 9: created meanwhile by a parallel test process
      if (r.status !== 0 && r.status !== 9) throw new Error(`useradd ${USER} failed: ${r.stderr}`);
    }
    await mkdir(RUN_DIR, { recursive: true, mode: 0o755 });
    const pwFile = join(RUN_DIR, '.password');
    let password = randomBytes(18).toString('base64url');
    try {
      await writeFile(pwFile, `${password}\n`, { flag: 'wx', mode: 0o600 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      password = (await readFile(pwFile, 'utf8')).trim();
    }
    await run('chpasswd', ['-c', 'SHA512'], `${USER}:${password}\n`);
    return password;
  })();
  return userPromise;
}

export interface OpenSshOptions {
  /** Run sshd inside this network namespace (the benchmark's emulated WAN). */
  netns?: string;
  /** Address to listen on. @default '127.0.0.1' */
  listenHost?: string;
  /** Port to listen on. @default a free loopback port */
  port?: number;
  /** Passphrase of the user's key; '' for none (lftp and rclone run unattended). @default random */
  keyPassphrase?: string;
}

/** Inside a namespace /proc/net/tcp is not ours to read: poll with TCP connects instead. */
async function connectable(host: string, port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, host);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return true;
    await sleep(100);
  }
  return false;
}

export async function startOpenSsh(opts: OpenSshOptions = {}): Promise<OpenSshServer> {
  const reason = opensshAvailable();
  if (reason !== null) throw new Error(reason);
  installExitHook();
  const password = await sftpUser();
  // sshd's privilege-separation folder (created by the package's service, which we do not run)
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const stateDir = await mkdtemp(join(tmpdir(), 'radarlib-sshd-'));
  const root = await mkdtemp(join(RUN_DIR, 'root-'));
  await chmod(root, 0o755);
  const passphrase = opts.keyPassphrase ?? randomBytes(9).toString('base64url');
  const host = opts.listenHost ?? '127.0.0.1';
  const hostKey = join(stateDir, 'ssh_host_ed25519_key');
  const userKey = join(stateDir, 'id_ed25519');
  await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey], { timeout: 30_000 });
  await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-f', userKey, '-C', 'radarlib-test'], {
    timeout: 30_000,
  });
  const authorizedKeys = join(stateDir, 'authorized_keys');
  await writeFile(authorizedKeys, await readFile(`${userKey}.pub`), { mode: 0o644 });
  await chmod(stateDir, 0o755);

  const port = opts.port ?? (await pickPorts(0)).control;
  const logPath = join(stateDir, 'sshd.log');
  const config = [
    `Port ${port}`,
    `ListenAddress ${host}`,
    `HostKey ${hostKey}`,
    'PidFile none',
    'UsePAM no',
    'PermitRootLogin no',
    `AllowUsers ${USER}`,
    'PasswordAuthentication yes',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    `AuthorizedKeysFile ${authorizedKeys}`,
    'StrictModes no',
    'Subsystem sftp internal-sftp',
    `ChrootDirectory ${root}`,
    'ForceCommand internal-sftp -l INFO',
    'AllowTcpForwarding no',
    'X11Forwarding no',
    'PermitTTY no',
    'MaxStartups 100:30:200',
    'MaxSessions 20',
    'LogLevel VERBOSE',
    '',
  ].join('\n');
  const configPath = join(stateDir, 'sshd_config');
  await writeFile(configPath, config);
  const argv = [SSHD, '-D', '-e', '-f', configPath];
  const child =
    opts.netns === undefined
      ? launch(SSHD, argv.slice(1), logPath)
      : launch('ip', ['netns', 'exec', opts.netns, ...argv], logPath);
  if (child.pid !== undefined) live.set(child.pid, { stateDir });
  const stopChild = async (): Promise<void> => {
    await killGroup(child);
    if (child.pid !== undefined) live.delete(child.pid);
    await rm(stateDir, { recursive: true, force: true });
    await rm(root, { recursive: true, force: true });
  };
  const up =
    opts.netns === undefined
      ? await waitListening(child, port)
      : (await connectable(host, port, 15_000)) || 'within 15 s';
  if (up !== true) {
    const log = tail([logPath], 30);
    await stopChild();
    throw new Error(`sshd did not listen on ${host}:${port} ${up}; log tail:\n${log}`);
  }
  // The client's view of the host key, as an operator would record it: hashed, [host]:port.
  const knownHosts = join(stateDir, 'known_hosts');
  const scanned = await exec('ssh-keyscan', ['-H', '-t', 'ed25519', '-p', String(port), host], {
    timeout: 30_000,
  });
  await writeFile(knownHosts, scanned.stdout);
  let stopped: Promise<void> | undefined;
  return {
    host,
    port,
    username: USER,
    password,
    root,
    privateKeyFile: userKey,
    passphrase,
    knownHosts,
    logTail: (lines = 30) => tail([logPath], lines),
    stop: () => (stopped ??= stopChild()),
  };
}
