/**
 * One SSH connection to an SFTP server and its SFTP channels, as promises with timeouts, and
 * every ssh2 failure turned into radarlib's typed errors.
 *
 * ssh2 is callback-based and reports most failures as plain `Error`s with a `level`
 * (`client-authentication`, `client-timeout`, `client-socket`...) or, for SFTP requests, a numeric
 * SFTP status in `code`. This module is the one place that reads those.
 */
import { readFile } from 'node:fs/promises';
import type { Client, ConnectConfig, ServerHostKeyAlgorithm, SFTPWrapper } from 'ssh2';
import {
  AbortedError,
  FtpConnectError,
  type FtpError,
  FtpSocketError,
  FtpTimeoutError,
  InvalidArgumentError,
  SftpAuthError,
  SftpHostKeyError,
  SftpStatusError,
  type FtpErrorContext,
} from '../errors.js';
import type { FtpTimeouts } from '../ftp/types.js';
import { makeHostKeyCheck, resolveHostKeyPolicy, type HostKeyPolicy } from './host-key.js';
import type { SftpServerOptions } from './types.js';
import { loadSsh2 } from './ssh2.js';

export interface ResolvedSftpServer {
  host: string;
  port: number;
  username: string;
  password: string | undefined;
  privateKey: string | Buffer | undefined;
  privateKeyFile: string | undefined;
  passphrase: string | undefined;
  agent: string | undefined;
  hostKey: HostKeyPolicy;
  maxConnections: number;
  channelsPerConnection: number;
  timeouts: FtpTimeouts;
}

/** Host key algorithms ssh2 verifies, in its default order of preference. */
const HOST_KEY_ALGORITHMS: readonly ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

const DEFAULT_TIMEOUTS: FtpTimeouts = { connectMs: 15_000, commandMs: 30_000, dataStallMs: 30_000 };

function positiveInt(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(option, `expected an integer >= 1, got ${String(value)}`);
  }
  return value;
}

/** Validates the options and applies defaults. Reads nothing from disk (that is `connect`'s job). */
export function resolveSftpServer(options: SftpServerOptions): ResolvedSftpServer {
  if (typeof options.host !== 'string' || options.host === '') {
    throw new InvalidArgumentError('host', 'a non-empty host name is required');
  }
  if (typeof options.username !== 'string' || options.username === '') {
    throw new InvalidArgumentError('username', 'SFTP needs a user name');
  }
  const port = options.port ?? 22;
  if (!(Number.isInteger(port) && port > 0 && port < 65536)) {
    throw new InvalidArgumentError('port', `expected 1-65535, got ${String(port)}`);
  }
  const agent =
    options.agent === true ? process.env.SSH_AUTH_SOCK : options.agent === false ? undefined : options.agent;
  if (options.agent === true && agent === undefined) {
    throw new InvalidArgumentError('agent', 'SSH_AUTH_SOCK is not set: no ssh-agent to use');
  }
  return {
    host: options.host,
    port,
    username: options.username,
    password: options.password,
    privateKey: options.privateKey,
    privateKeyFile: options.privateKeyFile,
    passphrase: options.passphrase,
    agent,
    hostKey: resolveHostKeyPolicy(options),
    maxConnections: positiveInt('maxConnections', options.maxConnections, 5),
    channelsPerConnection: positiveInt('channelsPerConnection', options.channelsPerConnection, 1),
    timeouts: { ...DEFAULT_TIMEOUTS, ...options.timeouts },
  };
}

export function sftpContext(
  server: ResolvedSftpServer,
  command: string,
  remotePath?: string,
): FtpErrorContext {
  return {
    host: server.host,
    port: server.port,
    command,
    protocol: 'sftp',
    ...(remotePath === undefined ? {} : { remotePath }),
  };
}

/** The status ssh2 puts in `code` of a failed SFTP request, or null for other failures. */
function sftpStatusOf(err: unknown): number | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' && code > 0 ? code : null;
}

/** Maps a failed SFTP request to a typed error: a status keeps the channel, anything else not. */
export function toSftpError(err: unknown, ctx: FtpErrorContext): FtpError {
  if (err instanceof FtpSocketError || err instanceof FtpTimeoutError || err instanceof SftpStatusError) {
    return err;
  }
  const status = sftpStatusOf(err);
  const message = err instanceof Error ? err.message : String(err);
  // 6/7 (no connection / connection lost) say the channel is gone: a socket failure.
  if (status !== null && status !== 6 && status !== 7)
    return new SftpStatusError(status, message, ctx, { cause: err });
  return new FtpSocketError(message, ctx, { cause: err });
}

/** Runs one ssh2 callback request, bounded by `ms`; `onTimeout` must make the request settle. */
export function withTimeout<T>(
  ms: number,
  ctx: FtpErrorContext,
  start: (done: (err: Error | null | undefined, value?: T) => void) => void,
  onTimeout: () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      reject(new FtpTimeoutError('command', ms, ctx));
      onTimeout();
    }, ms);
    start((err, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err !== null && err !== undefined) reject(toSftpError(err, ctx));
      else resolve(value as T);
    });
  });
}

/** An SSH connection: a transport that carries up to `channelsPerConnection` SFTP channels. */
export class SshConnection {
  readonly #client: Client;
  readonly #server: ResolvedSftpServer;
  #closed = false;
  /** Channels open or being opened on this connection (kept by the pool). */
  channels = 0;

  private constructor(client: Client, server: ResolvedSftpServer) {
    this.#client = client;
    this.#server = server;
    client.on('close', () => {
      this.#closed = true;
    });
    // After `ready`, errors also end in `close`; the listener only keeps them from being thrown.
    client.on('error', () => undefined);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Connects, checks the host key, logs in. Rejects with a typed error naming what failed. */
  static async open(server: ResolvedSftpServer, signal?: AbortSignal): Promise<SshConnection> {
    const ctx = sftpContext(server, 'connect');
    const check = makeHostKeyCheck(server.hostKey, server.host, server.port);
    const preferred = HOST_KEY_ALGORITHMS.filter((a) => check.preferredKeyTypes.includes(a));
    const hostKeyOrder = [...preferred, ...HOST_KEY_ALGORITHMS.filter((a) => !preferred.includes(a))];
    const config: ConnectConfig = {
      host: server.host,
      port: server.port,
      username: server.username,
      readyTimeout: server.timeouts.connectMs,
      hostVerifier: (key: Buffer) => check.verify(key),
      // A dead peer behind a NAT shows up within three missed keepalives instead of never.
      keepaliveInterval: 15_000,
      keepaliveCountMax: 3,
      algorithms: { serverHostKey: hostKeyOrder },
    };
    const methods: string[] = [];
    if (server.agent !== undefined) {
      config.agent = server.agent;
      methods.push('agent');
    }
    if (server.privateKey !== undefined || server.privateKeyFile !== undefined) {
      config.privateKey =
        server.privateKey ??
        (await readFile(server.privateKeyFile as string).catch((err: unknown) => {
          throw new InvalidArgumentError(
            'privateKeyFile',
            `cannot read ${server.privateKeyFile as string} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
          );
        }));
      if (server.passphrase !== undefined) config.passphrase = server.passphrase;
      methods.push('publickey');
    }
    if (server.password !== undefined) {
      config.password = server.password;
      methods.push('password');
    }
    const client = new (loadSsh2().Client)();
    return new Promise<SshConnection>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        client.end();
        reject(err);
      };
      const onAbort = (): void =>
        fail(new AbortedError(`connecting to ${server.host}:${server.port}`, { cause: signal?.reason }));
      signal?.addEventListener('abort', onAbort, { once: true });
      client.once('ready', () => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        // SFTP is request/answer: with Nagle on, each small request waits for the delayed ACK
        // of the previous packet (~40 ms per round trip even on loopback).
        client.setNoDelay(true);
        resolve(new SshConnection(client, server));
      });
      client.on('error', (err: Error & { level?: string; code?: string }) => {
        if (check.refusal !== null) {
          const { verdict, fingerprint, detail } = check.refusal;
          fail(new SftpHostKeyError(verdict, fingerprint, detail, ctx));
        } else if (err.level === 'client-authentication') {
          fail(
            new SftpAuthError(
              `login as ${server.username} refused (tried: ${methods.join(', ') || 'none'})`,
              methods,
              ctx,
              { cause: err },
            ),
          );
        } else if (err.level === 'client-timeout') {
          fail(new FtpTimeoutError('connect', server.timeouts.connectMs, ctx, { cause: err }));
        } else if (err.level === 'client-socket' || err.level === 'client-dns' || err.code !== undefined) {
          fail(new FtpConnectError(err.message, ctx, { cause: err }));
        } else if (/private ?key|passphrase/i.test(err.message)) {
          fail(
            new SftpAuthError(`the private key cannot be used: ${err.message}`, methods, ctx, { cause: err }),
          );
        } else {
          fail(new FtpSocketError(err.message, ctx, { cause: err }));
        }
      });
      client.once('close', () => fail(new FtpConnectError('connection closed during login', ctx)));
      try {
        client.connect(config);
      } catch (err) {
        // ssh2 throws synchronously for a key it cannot parse (wrong passphrase, garbage).
        fail(
          new SftpAuthError(`the private key cannot be used: ${(err as Error).message}`, methods, ctx, {
            cause: err,
          }),
        );
      }
    });
  }

  /** Opens one SFTP channel on this connection. */
  openChannel(): Promise<SFTPWrapper> {
    const ctx = sftpContext(this.#server, 'sftp-channel');
    return withTimeout<SFTPWrapper>(
      this.#server.timeouts.commandMs,
      ctx,
      (done) => this.#client.sftp((err, sftp) => done(err, sftp)),
      () => this.destroy(),
    );
  }

  close(): void {
    this.#closed = true;
    this.#client.end();
  }

  destroy(): void {
    this.#closed = true;
    this.#client.destroy();
  }
}
