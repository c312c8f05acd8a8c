/**
 * A lazy, bounded pool of SFTP channels over at most `maxConnections` SSH connections, each
 * carrying at most `channelsPerConnection` channels. The same rules as the FTP pool
 * (src/ftp/pool.ts): a request the server refused (`SftpStatusError`) or a local failure keeps the
 * channel; a socket error, timeout or abort destroys its connection (the next borrower opens a
 * fresh one); listings are served before queued transfers; `close()` drains, `destroy()` aborts.
 */
import type { SFTPWrapper } from 'ssh2';
import type { Logger } from 'pino';
import {
  AbortedError,
  FtpClosedError,
  FtpError,
  FtpSizeMismatchError,
  RadarlibError,
  SftpStatusError,
  type FtpErrorContext,
} from '../errors.js';
import { SshConnection, toSftpError, type ResolvedSftpServer } from './connection.js';

export interface SftpChannel {
  readonly connection: SshConnection;
  readonly sftp: SFTPWrapper;
}

type Waiter = (channel: SftpChannel | null) => void;

/** The SSH session pool of one server right now: open, idle and busy sessions, and the cap. */
export interface SftpPoolStats {
  /** SSH connections open. */
  connections: number;
  /** SFTP channels open (idle + busy). */
  open: number;
  idle: number;
  busy: number;
  /** Most channels at once (maxConnections × channelsPerConnection). */
  limit: number;
  peakBusy: number;
}

export class SftpChannelPool {
  readonly #server: ResolvedSftpServer;
  readonly #log: Logger | undefined;
  readonly #connections = new Set<SshConnection>();
  readonly #idle: SftpChannel[] = [];
  readonly #busy = new Set<SftpChannel>();
  readonly #waiters: Waiter[] = [];
  readonly #priorityWaiters: Waiter[] = [];
  #maxConnections: number;
  /** Channels being opened (and connections being opened for them). */
  #opening = 0;
  #peakBusy = 0;
  #closing = false;
  #drained: (() => void) | undefined;
  /** Connections being opened, with the channels already promised to borrowers waiting on them. */
  readonly #pendingConnections: { channels: number; connection: Promise<SshConnection> }[] = [];

  constructor(server: ResolvedSftpServer, log?: Logger) {
    this.#server = server;
    this.#log = log;
    this.#maxConnections = server.maxConnections;
  }

  get closed(): boolean {
    return this.#closing;
  }

  get stats(): SftpPoolStats {
    return {
      connections: this.#connections.size,
      open: this.#idle.length + this.#busy.size,
      idle: this.#idle.length,
      busy: this.#busy.size,
      limit: this.#limit,
      peakBusy: this.#peakBusy,
    };
  }

  get #limit(): number {
    return this.#maxConnections * this.#server.channelsPerConnection;
  }

  /** Lets at least `channels` run at once (when no explicit maxConnections was given). */
  raiseLimit(channels: number): void {
    this.#maxConnections = Math.max(
      this.#maxConnections,
      Math.ceil(channels / this.#server.channelsPerConnection),
    );
  }

  /** Runs `fn` with a borrowed channel; see the module comment for what happens on failure. */
  async use<T>(
    fn: (channel: SftpChannel) => Promise<T>,
    ctx: FtpErrorContext,
    signal?: AbortSignal,
    priority = false,
  ): Promise<T> {
    const channel = await this.#acquire(ctx, signal, priority);
    // An abort cannot cancel one SFTP request: it ends the connection, which fails them all.
    const onAbort = (): void => channel.connection.destroy();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const result = await fn(channel);
      this.#release(channel);
      return result;
    } catch (err) {
      if (signal?.aborted === true) {
        this.#discard(channel);
        throw new AbortedError(`${ctx.command ?? 'request'} ${ctx.remotePath ?? ''}`.trim(), {
          cause: signal.reason,
        });
      }
      const mapped = err instanceof RadarlibError ? err : toSftpError(err, ctx);
      // Refused requests, short files and local failures leave the channel working.
      const keeps =
        mapped instanceof SftpStatusError ||
        mapped instanceof FtpSizeMismatchError ||
        !(mapped instanceof FtpError);
      if (keeps && !channel.connection.closed) this.#release(channel);
      else this.#discard(channel);
      throw mapped;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async #acquire(
    ctx: FtpErrorContext,
    signal: AbortSignal | undefined,
    priority: boolean,
  ): Promise<SftpChannel> {
    // Bounded: each pass returns, throws, or waits for a release (which wakes exactly one waiter).
    for (;;) {
      if (this.#closing) throw new FtpClosedError(ctx);
      if (signal?.aborted === true)
        throw new AbortedError(`waiting for an SFTP channel`, { cause: signal.reason });
      const idle = this.#idle.pop();
      if (idle !== undefined) {
        if (idle.connection.closed) continue;
        return this.#markBusy(idle);
      }
      if (this.#idle.length + this.#busy.size + this.#opening < this.#limit) {
        this.#opening++;
        try {
          return this.#markBusy(await this.#openChannel(signal));
        } finally {
          this.#opening--;
        }
      }
      const channel = await this.#wait(signal, priority);
      if (channel !== null) return this.#markBusy(channel);
    }
  }

  async #openChannel(signal: AbortSignal | undefined): Promise<SftpChannel> {
    const connection = await this.#connectionWithRoom(signal);
    try {
      return { connection, sftp: await connection.openChannel() };
    } catch (err) {
      connection.channels--;
      if (connection.channels === 0) this.#dropConnection(connection);
      throw err;
    }
  }

  /**
   * A connection with room for one more channel, the slot already reserved (`channels` counts it),
   * so borrowers arriving together share connections instead of each opening its own: a
   * connection being opened counts as one with room too.
   */
  async #connectionWithRoom(signal: AbortSignal | undefined): Promise<SshConnection> {
    const room = (c: { channels: number }): boolean => c.channels < this.#server.channelsPerConnection;
    const open = [...this.#connections].find((c) => !c.closed && room(c));
    if (open !== undefined) {
      open.channels++;
      return open;
    }
    const pending = this.#pendingConnections.find((p) => room(p));
    if (pending !== undefined) {
      // Counted by the opener when the connection is up (its continuation runs before ours).
      pending.channels++;
      return pending.connection;
    }
    const opening = { channels: 1, connection: SshConnection.open(this.#server, signal) };
    this.#pendingConnections.push(opening);
    try {
      const connection = await opening.connection;
      this.#connections.add(connection);
      connection.channels += opening.channels; // this borrower and those who joined meanwhile
      this.#log?.debug({ connections: this.#connections.size }, 'ssh connection opened');
      return connection;
    } finally {
      this.#pendingConnections.splice(this.#pendingConnections.indexOf(opening), 1);
    }
  }

  #markBusy(channel: SftpChannel): SftpChannel {
    this.#busy.add(channel);
    this.#peakBusy = Math.max(this.#peakBusy, this.#busy.size);
    return channel;
  }

  #wait(signal: AbortSignal | undefined, priority: boolean): Promise<SftpChannel | null> {
    return new Promise((resolve, reject) => {
      const queue = priority ? this.#priorityWaiters : this.#waiters;
      const onAbort = (): void => {
        const i = queue.indexOf(waiter);
        if (i >= 0) queue.splice(i, 1);
        reject(new AbortedError('waiting for an SFTP channel', { cause: signal?.reason }));
      };
      const waiter: Waiter = (channel) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(channel);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
    });
  }

  #release(channel: SftpChannel): void {
    this.#busy.delete(channel);
    if (this.#closing) {
      this.#idle.push(channel);
      if (this.#busy.size === 0) this.#drained?.();
      return;
    }
    const waiter = this.#priorityWaiters.shift() ?? this.#waiters.shift();
    if (waiter !== undefined) waiter(channel);
    else this.#idle.push(channel);
  }

  #discard(channel: SftpChannel): void {
    this.#busy.delete(channel);
    // The connection is the unit that breaks (socket, timeout, abort): all its channels go.
    this.#dropConnection(channel.connection);
    if (this.#closing && this.#busy.size === 0) this.#drained?.();
    // A slot is free: a waiter may open a new channel (null = "try again").
    const waiter = this.#priorityWaiters.shift() ?? this.#waiters.shift();
    waiter?.(null);
  }

  #dropConnection(connection: SshConnection): void {
    connection.destroy();
    this.#connections.delete(connection);
    for (let i = this.#idle.length - 1; i >= 0; i--) {
      if (this.#idle[i]?.connection === connection) this.#idle.splice(i, 1);
    }
  }

  /** Refuses new work, waits for running work, then closes every connection. Idempotent. */
  async close(): Promise<void> {
    this.#closing = true;
    for (const w of [...this.#priorityWaiters.splice(0), ...this.#waiters.splice(0)]) w(null);
    // Busy channels are released or discarded by their `use` call, which then calls #drained.
    if (this.#busy.size > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    for (const c of this.#connections) c.close();
    this.#connections.clear();
    this.#idle.length = 0;
  }

  /** Aborts running work (it rejects) and closes every connection at once. */
  destroy(): void {
    this.#closing = true;
    for (const w of [...this.#priorityWaiters.splice(0), ...this.#waiters.splice(0)]) w(null);
    for (const c of this.#connections) c.destroy();
    this.#connections.clear();
    this.#idle.length = 0;
  }
}
