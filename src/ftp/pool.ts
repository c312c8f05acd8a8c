/**
 * A pool of logged-in control connections to one server.
 *
 * FTP runs one command at a time per control connection, so parallel transfers need parallel
 * connections. The pool opens them lazily, never more than the server's cap, checks an idle
 * one with NOOP before reuse, replaces broken ones, and treats `421` (too many connections) as a
 * signal: the cap drops to what the server accepted and grows back slowly.
 *
 * `close()` refuses new work and waits for running work; `destroy()` aborts everything. Both are
 * idempotent (the undici pool's two ways of closing).
 */
import type { Client } from 'basic-ftp';
import type { Logger } from 'pino';
import {
  AbortedError,
  FtpClosedError,
  FtpError,
  FtpReplyError,
  RadarlibError,
  type FtpErrorContext,
} from '../errors.js';
import { onAbortDuring, sleep } from '../util/abort.js';
import { keepsConnection, openConnection, toFtpError, type ResolvedServer } from './connection.js';
import { DataSlots, gateTransfers, type DataSlotStats } from './data-slots.js';

/** An idle connection older than this gets a NOOP before it is handed out. */
const HEALTH_CHECK_AFTER_MS = 10_000;
/** Idle connections are closed after this, so a quiet daemon does not hold server slots. */
const IDLE_CLOSE_AFTER_MS = 60_000;
/** After a 421, the cap grows back by one connection per this period. */
const CAP_RECOVERY_MS = 30_000;
/** When even the first connection gets 421, wait this long (doubling) before trying again. */
const BUSY_BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];

interface PooledConnection {
  client: Client;
  idleSince: number;
  idleTimer?: NodeJS.Timeout;
}

type Waiter = (conn: PooledConnection | null) => void;

/** The connection pool of one server right now: open, idle and busy connections, and the cap. */
export interface PoolStats {
  open: number;
  idle: number;
  busy: number;
  /** Current cap (lowered after a 421). */
  limit: number;
  /** Highest number of connections in use at once. */
  peakBusy: number;
  /** While data transfers are capped apart from the connections (data-slots.ts). */
  dataTransfers?: DataSlotStats;
}

/** True for "too many connections" replies: 421, or 530 with such a text (ProFTPD). */
export function isTooManyConnections(err: unknown): boolean {
  if (!(err instanceof FtpReplyError)) return false;
  if (err.replyCode === 421) return true;
  return err.replyCode === 530 && /too many|maximum number/i.test(err.message);
}

export class FtpConnectionPool {
  readonly #server: ResolvedServer;
  readonly #log: Logger | undefined;
  readonly #idle: PooledConnection[] = [];
  readonly #busy = new Set<PooledConnection>();
  readonly #waiters: Waiter[] = [];
  /**
   * Waiters served before #waiters: listings. A listing is short and tells what to transfer
   * next; behind a queue of transfers on a slow link it would wait seconds per folder level.
   */
  readonly #priorityWaiters: Waiter[] = [];
  #opening = 0;
  /** Idle connections taken out for a health check (still counted as open). */
  #checking = 0;
  #limit: number;
  #maxLimit: number;
  #limitRestoreAt = 0;
  #peakBusy = 0;
  #closing = false;
  #drained: (() => void) | undefined;
  /** While a batch overlaps set-up with transfers: the cap on data transfers (data-slots.ts). */
  #dataSlots: DataSlots | undefined;

  constructor(server: ResolvedServer, log?: Logger) {
    this.#server = server;
    this.#log = log;
    this.#limit = server.maxConnections;
    this.#maxLimit = server.maxConnections;
    if (server.tls?.rejectUnauthorized === false) {
      log?.warn(
        { host: server.host },
        'FTPS certificate verification is OFF for this server (insecure mode)',
      );
    }
  }

  get stats(): PoolStats {
    return {
      open: this.#idle.length + this.#busy.size + this.#opening + this.#checking,
      idle: this.#idle.length,
      busy: this.#busy.size,
      limit: this.#limit,
      peakBusy: this.#peakBusy,
      ...(this.#dataSlots === undefined ? {} : { dataTransfers: this.#dataSlots.stats }),
    };
  }

  /** Raises the cap (never above what a later 421 allows); for callers asking more concurrency. */
  raiseLimit(max: number): void {
    if (max <= this.#maxLimit) return;
    this.#maxLimit = max;
    this.#limit = Math.max(this.#limit, max);
  }

  /**
   * Lets at most `n` transfers move data at once, however many connections are open
   * (`undefined`: no such cap). Listings are never held by it. Returns the stats of the cap it
   * replaces.
   */
  limitDataTransfers(n: number | undefined): DataSlotStats | undefined {
    const previous = this.#dataSlots?.stats;
    this.#dataSlots = n === undefined ? undefined : new DataSlots(n);
    return previous;
  }

  get closed(): boolean {
    return this.#closing;
  }

  /**
   * Runs `fn` on a pooled connection. A reply error (4xx/5xx) returns the connection to the pool;
   * a socket error, timeout or abort destroys it (the next caller gets a fresh one).
   */
  async use<T>(
    fn: (client: Client) => Promise<T>,
    ctx: FtpErrorContext,
    signal?: AbortSignal,
    priority = false,
  ): Promise<T> {
    const conn = await this.#acquire(ctx, signal, priority);
    gateTransfers(conn.client.ftp, priority ? undefined : this.#dataSlots);
    try {
      const result = await onAbortDuring(
        signal,
        () => fn(conn.client),
        () => conn.client.close(),
      );
      this.#release(conn);
      return result;
    } catch (err) {
      if (signal?.aborted === true) {
        this.#discard(conn);
        throw new AbortedError(describe(ctx), { cause: signal.reason });
      }
      // Our own non-FTP errors (a local write failing: LocalIoError) keep their class; the
      // connection is kept when it survived them.
      const local = err instanceof RadarlibError && !(err instanceof FtpError);
      const mapped = local ? err : toFtpError(err, ctx, this.#server.timeouts.commandMs);
      if ((local || keepsConnection(mapped)) && !conn.client.closed) this.#release(conn);
      else this.#discard(conn);
      throw mapped;
    }
  }

  async #acquire(
    ctx: FtpErrorContext,
    signal: AbortSignal | undefined,
    priority: boolean,
  ): Promise<PooledConnection> {
    for (let busyAttempt = 0; ;) {
      if (this.#closing) throw new FtpClosedError(ctx);
      if (signal?.aborted === true) throw new AbortedError(describe(ctx), { cause: signal.reason });
      this.#maybeRestoreLimit();

      const idle = this.#idle.pop();
      if (idle !== undefined) {
        clearTimeout(idle.idleTimer);
        // Counted while checked: others must not open a connection in its place meanwhile
        // (that briefly exceeded the cap, which a strict server answers with 421).
        this.#checking++;
        let healthy: boolean;
        try {
          healthy = await this.#healthy(idle);
        } finally {
          this.#checking--;
        }
        if (healthy) return this.#markBusy(idle);
        this.#discard(idle);
        continue;
      }

      if (this.stats.open < this.#limit) {
        this.#opening++;
        try {
          const client = await openConnection(this.#server, signal);
          return this.#markBusy({ client, idleSince: Date.now() });
        } catch (err) {
          // This attempt's place is free again: a caller waiting for one tries in its stead (no
          // release may ever wake it: a daemon that pauses claiming sends no new callers).
          if (!isTooManyConnections(err)) throw this.#wakeWaiter(err);
          this.#lowerLimit();
          const backoff = BUSY_BACKOFF_MS[busyAttempt];
          // Others hold connections: wait for one of them. Nobody does: back off and retry.
          if (this.#busy.size === 0) {
            if (backoff === undefined) throw this.#wakeWaiter(err);
            busyAttempt++;
            await sleep(backoff, signal);
            continue;
          }
        } finally {
          this.#opening--;
        }
      }

      const handed = await this.#waitForRelease(ctx, signal, priority);
      if (handed !== null) return this.#markBusy(handed);
    }
  }

  /** Wakes the next waiter (it retries opening) and returns `err` for the caller to throw. */
  #wakeWaiter(err: unknown): unknown {
    this.#nextWaiter()?.(null);
    return err;
  }

  #nextWaiter(): Waiter | undefined {
    return this.#priorityWaiters.shift() ?? this.#waiters.shift();
  }

  #waitForRelease(
    ctx: FtpErrorContext,
    signal: AbortSignal | undefined,
    priority: boolean,
  ): Promise<PooledConnection | null> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = (conn) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(conn);
      };
      const onAbort = (): void => {
        const queue = priority ? this.#priorityWaiters : this.#waiters;
        const i = queue.indexOf(waiter);
        if (i >= 0) queue.splice(i, 1);
        reject(new AbortedError(describe(ctx), { cause: signal?.reason }));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      (priority ? this.#priorityWaiters : this.#waiters).push(waiter);
    });
  }

  async #healthy(conn: PooledConnection): Promise<boolean> {
    if (conn.client.closed) return false;
    if (Date.now() - conn.idleSince < HEALTH_CHECK_AFTER_MS) return true;
    try {
      await conn.client.send('NOOP');
      return true;
    } catch {
      return false;
    }
  }

  #markBusy(conn: PooledConnection): PooledConnection {
    this.#busy.add(conn);
    this.#peakBusy = Math.max(this.#peakBusy, this.#busy.size);
    return conn;
  }

  #release(conn: PooledConnection): void {
    this.#busy.delete(conn);
    const waiter = this.#nextWaiter();
    if (waiter !== undefined && !this.#closing) {
      waiter(conn);
      return;
    }
    if (this.#closing) {
      conn.client.close();
      this.#checkDrained();
      return;
    }
    conn.idleSince = Date.now();
    conn.idleTimer = setTimeout(() => {
      const i = this.#idle.indexOf(conn);
      if (i >= 0) this.#idle.splice(i, 1);
      conn.client.close();
    }, IDLE_CLOSE_AFTER_MS).unref();
    this.#idle.push(conn);
  }

  #discard(conn: PooledConnection): void {
    clearTimeout(conn.idleTimer);
    conn.client.close();
    this.#busy.delete(conn);
    // A slot is free: let one waiter try to open a replacement.
    this.#nextWaiter()?.(null);
    this.#checkDrained();
  }

  #lowerLimit(): void {
    const accepted = Math.max(1, this.#busy.size + this.#idle.length);
    if (accepted < this.#limit) {
      this.#log?.info(
        { host: this.#server.host, from: this.#limit, to: accepted },
        'server refused a connection (421): lowering the connection cap',
      );
    }
    this.#limit = Math.min(this.#limit, accepted);
    this.#limitRestoreAt = Date.now() + CAP_RECOVERY_MS;
  }

  #maybeRestoreLimit(): void {
    if (this.#limit < this.#maxLimit && Date.now() >= this.#limitRestoreAt) {
      this.#limit++;
      this.#limitRestoreAt = Date.now() + CAP_RECOVERY_MS;
    }
  }

  #checkDrained(): void {
    if (this.#closing && this.#busy.size === 0) this.#drained?.();
  }

  /** Refuses new work, waits for running work to finish, then closes every connection. */
  async close(): Promise<void> {
    this.#closing = true;
    for (const waiter of [...this.#priorityWaiters.splice(0), ...this.#waiters.splice(0)]) waiter(null);
    if (this.#busy.size > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    this.#closeIdle();
  }

  /** Aborts running work (its callers get errors) and closes every connection at once. */
  destroy(): void {
    this.#closing = true;
    for (const waiter of [...this.#priorityWaiters.splice(0), ...this.#waiters.splice(0)]) waiter(null);
    for (const conn of this.#busy) conn.client.close();
    this.#busy.clear();
    this.#closeIdle();
    this.#drained?.();
  }

  #closeIdle(): void {
    for (const conn of this.#idle.splice(0)) {
      clearTimeout(conn.idleTimer);
      conn.client.close();
    }
  }
}

function describe(ctx: FtpErrorContext): string {
  return `${ctx.command ?? 'FTP'}${ctx.remotePath === undefined ? '' : ` ${ctx.remotePath}`} on ${ctx.host}:${ctx.port}`;
}
