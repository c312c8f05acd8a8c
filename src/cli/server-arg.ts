/**
 * Turns the CLI's server argument into client options.
 *
 *   ftp://user@host:2121/path   ftps://host/path (explicit FTPS)   host   host:2121
 *
 * The password never comes from the command line (it would show in `ps` and shell history):
 * it comes from RADARLIB_FTP_PASSWORD or --password-file. A password inside a URL is refused.
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '../errors.js';
import type { AsyncFTPClientOptions } from '../ftp/types.js';

export interface ServerArgOptions {
  user?: string;
  port?: string;
  passwordFile?: string;
  ftps?: boolean;
  insecure?: boolean;
  connections?: string;
}

export interface ParsedServer {
  options: AsyncFTPClientOptions;
  /** Path from the URL, when one was given. */
  path: string | undefined;
}

export function parseServerArg(arg: string, opts: ServerArgOptions, env = process.env): ParsedServer {
  let host = arg;
  let port: number | undefined;
  let username = opts.user;
  let path: string | undefined;
  let secure: AsyncFTPClientOptions['secure'] = opts.ftps === true ? 'explicit' : false;
  if (/^ftps?:\/\//i.test(arg)) {
    const url = new URL(arg);
    if (url.password !== '') {
      throw new InvalidArgumentError(
        'server',
        'put the password in RADARLIB_FTP_PASSWORD or --password-file, not in the URL',
      );
    }
    host = url.hostname;
    if (url.port !== '') port = Number(url.port);
    if (url.username !== '') username = decodeURIComponent(url.username);
    if (url.pathname !== '' && url.pathname !== '/') path = decodeURIComponent(url.pathname);
    if (url.protocol === 'ftps:') secure = 'explicit';
  } else {
    const m = /^([^:]+):(\d+)$/.exec(arg);
    if (m !== null) {
      host = m[1] as string;
      port = Number(m[2]);
    }
  }
  if (opts.port !== undefined) port = Number(opts.port);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    throw new InvalidArgumentError('port', `expected 1-65535, got ${String(port)}`);
  }
  const password =
    opts.passwordFile !== undefined
      ? readFileSync(opts.passwordFile, 'utf8').replace(/\r?\n$/, '')
      : env.RADARLIB_FTP_PASSWORD;
  const options: AsyncFTPClientOptions = {
    host,
    secure,
    ...(port === undefined ? {} : { port }),
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...(opts.insecure === true ? { tls: { rejectUnauthorized: false } } : {}),
    ...(opts.connections === undefined ? {} : { maxConnections: Number(opts.connections) }),
  };
  return { options, path };
}
