import type { Logger } from 'pino';
import type { FtpTimeouts } from '../ftp/types.js';

/**
 * How to reach, verify and log in to one SFTP server. Credentials are tried in the order
 * OpenSSH tries them: agent, private key, password. None of them is ever logged.
 */
export interface SftpServerOptions {
  host: string;
  /** @default 22 */
  port?: number;
  username: string;
  /** Password authentication. Never logged, never part of an error message. */
  password?: string;
  /** A private key (OpenSSH, PEM or PPK text), e.g. read from `~/.ssh/id_ed25519`. */
  privateKey?: string | Buffer;
  /** A file holding the private key (read at connect). */
  privateKeyFile?: string;
  /** Passphrase of an encrypted private key. */
  passphrase?: string;
  /**
   * ssh-agent socket, or `true` for `$SSH_AUTH_SOCK`. The agent's keys are offered first.
   * @default false
   */
  agent?: string | boolean;
  /**
   * Host key check: a known_hosts file to use instead of `~/.ssh/known_hosts` (`~` is
   * `os.homedir()`, so `$HOME` is honoured). Hashed entries and `[host]:port` are understood.
   * @default `${os.homedir()}/.ssh/known_hosts`
   */
  knownHosts?: string;
  /**
   * Pin the host key by its fingerprint (`SHA256:…` as `ssh-keygen -lf` prints it); replaces the
   * known_hosts check.
   */
  hostKeyFingerprint?: string;
  /**
   * Accept any host key. Only for tests and throwaway servers: a man in the middle then gets the
   * password. Logs a warning once per client.
   * @default false
   */
  acceptAnyHostKey?: boolean;
  /**
   * Most SSH connections to this server at once (the per-server cap).
   * @default 5
   */
  maxConnections?: number;
  /**
   * SFTP channels opened on one SSH connection. Parallel transfers beyond this open more
   * connections (up to `maxConnections`). OpenSSH allows 10 sessions per connection
   * (`MaxSessions`). See docs/PERFORMANCE.md for which is faster.
   * @default 1
   */
  channelsPerConnection?: number;
  /** Timeouts in milliseconds (the same meaning as for FTP: `commandMs` bounds one request). */
  timeouts?: Partial<FtpTimeouts>;
}

export interface AsyncSFTPClientOptions extends SftpServerOptions {
  /** pino logger; the client logs at debug level under `{module: 'sftp', host}`. */
  logger?: Logger;
}
