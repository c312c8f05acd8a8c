/**
 * Turns the CLI's server argument into client options.
 *
 *   ftp://user@host:2121/path   ftps://host/path (explicit FTPS)   host   host:2121
 *   sftp://user@host:2222/path  (SSH: host key checked against ~/.ssh/known_hosts by default)
 *
 * The password never comes from the command line (it would show in `ps` and shell history):
 * it comes from RADARLIB_FTP_PASSWORD or --password-file. A password inside a URL is refused.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { InvalidArgumentError } from '../errors.js';
import type { AsyncFTPClientOptions } from '../ftp/types.js';
import type { AsyncSFTPClientOptions } from '../sftp/types.js';

export interface ServerArgOptions {
  user?: string;
  port?: string;
  passwordFile?: string;
  ftps?: boolean;
  insecure?: boolean;
  connections?: string;
  /** SFTP: private key file, its passphrase file, ssh-agent, host key checks. */
  identity?: string;
  passphraseFile?: string;
  agent?: boolean;
  knownHosts?: string;
  hostKey?: string;
  acceptAnyHostKey?: boolean;
}

export type ParsedServer =
  | {
      protocol: 'ftp';
      options: AsyncFTPClientOptions;
      /** Path from the URL, when one was given. */
      path: string | undefined;
    }
  | { protocol: 'sftp'; options: AsyncSFTPClientOptions; path: string | undefined };

function checkPort(port: number | undefined): void {
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    throw new InvalidArgumentError('port', `expected 1-65535, got ${String(port)}`);
  }
}

function readSecret(file: string): string {
  return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
}

export function parseServerArg(arg: string, opts: ServerArgOptions, env = process.env): ParsedServer {
  if (/^sftp:\/\//i.test(arg)) return parseSftpArg(arg, opts, env);
  let host = arg;
  let port: number | undefined;
  let username = opts.user;
  let path: string | undefined;
  let secure: AsyncFTPClientOptions['secure'] = opts.ftps === true ? 'explicit' : false;
  if (/^ftps?:\/\//i.test(arg)) {
    const parsed = parseUrl(arg);
    host = parsed.url.hostname;
    port = parsed.port;
    path = parsed.path;
    if (parsed.url.username !== '') username = decodeURIComponent(parsed.url.username);
    if (parsed.url.protocol === 'ftps:') secure = 'explicit';
  } else {
    const m = /^([^:]+):(\d+)$/.exec(arg);
    if (m !== null) {
      host = m[1] as string;
      port = Number(m[2]);
    }
  }
  if (opts.port !== undefined) port = Number(opts.port);
  checkPort(port);
  const password =
    opts.passwordFile !== undefined ? readSecret(opts.passwordFile) : env.RADARLIB_FTP_PASSWORD;
  const options: AsyncFTPClientOptions = {
    host,
    secure,
    ...(port === undefined ? {} : { port }),
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...(opts.insecure === true ? { tls: { rejectUnauthorized: false } } : {}),
    ...(opts.connections === undefined ? {} : { maxConnections: Number(opts.connections) }),
  };
  return { protocol: 'ftp', options, path };
}

function parseUrl(arg: string): { url: URL; port: number | undefined; path: string | undefined } {
  const url = new URL(arg);
  if (url.password !== '') {
    throw new InvalidArgumentError(
      'server',
      'put the password in RADARLIB_FTP_PASSWORD or --password-file, not in the URL',
    );
  }
  const port = url.port === '' ? undefined : Number(url.port);
  const path = url.pathname !== '' && url.pathname !== '/' ? decodeURIComponent(url.pathname) : undefined;
  return { url, port, path };
}

/**
 * `sftp://user@host[:port]/path`. Like ssh: the user defaults to the local one, ssh-agent is
 * used when SSH_AUTH_SOCK is set and no key or password is given.
 */
function parseSftpArg(arg: string, opts: ServerArgOptions, env: NodeJS.ProcessEnv): ParsedServer {
  const { url, port: urlPort, path } = parseUrl(arg);
  const port = opts.port === undefined ? urlPort : Number(opts.port);
  checkPort(port);
  const password =
    opts.passwordFile !== undefined ? readSecret(opts.passwordFile) : env.RADARLIB_FTP_PASSWORD;
  const agent =
    opts.agent === true ||
    (opts.identity === undefined && password === undefined && env.SSH_AUTH_SOCK !== undefined);
  const options: AsyncSFTPClientOptions = {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    username: url.username !== '' ? decodeURIComponent(url.username) : (opts.user ?? userInfo().username),
    ...(port === undefined ? {} : { port }),
    ...(password === undefined ? {} : { password }),
    ...(opts.identity === undefined ? {} : { privateKeyFile: opts.identity }),
    ...(opts.passphraseFile === undefined ? {} : { passphrase: readSecret(opts.passphraseFile) }),
    ...(agent ? { agent: true } : {}),
    ...(opts.knownHosts === undefined ? {} : { knownHosts: opts.knownHosts }),
    ...(opts.hostKey === undefined ? {} : { hostKeyFingerprint: opts.hostKey }),
    ...(opts.acceptAnyHostKey === true ? { acceptAnyHostKey: true } : {}),
    ...(opts.connections === undefined ? {} : { maxConnections: Number(opts.connections) }),
  };
  return { protocol: 'sftp', options, path };
}
