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
import {
  DataSlots,
  dropReadyPassive,
  gateTransfers,
  hasPrefetchedPassive,
  hasReadyPassive,
  preparePassive,
  READY_MAX_AGE_MS,
  type DataSlotStats,
} from './data-connection/index.js';

/** An idle connection older than this gets a NOOP before it is handed out. */
const HEALTH_CHECK_AFTER_MS = 10_000;
/** Idle connections are closed after this, so a quiet daemon does not hold server slots. */
const IDLE_CLOSE_AFTER_MS = 60_000;
/** Commands (`FtpErrorContext.command`) that use no data connection: see #takeIdle. */
const NO_DATA_COMMANDS = new Set(['SIZE', 'MDTM', 'STAT', 'connect']);
/** After a 421, the cap grows back by one connection per this period. */
const CAP_RECOVERY_MS = 30_000;
/** When even the first connection gets 421, wait this long (doubling) before trying again. */
const BUSY_BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];

interface PooledConnection {
  client: Client;
  idleSince: number;
  idleTimer?: NodeJS.Timeout;
  /** Its next transfer's passive data connection is being opened (data-connection/ready.ts). */
  preparing?: Promise<void>;
  /** When its passive data connection became ready (its age is bounded: READY_MAX_AGE_MS). */
  readyAt?: number;
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
  /** While data transfers are capped apart from the connections (data-connection/slots.ts). */
  dataTransfers?: DataSlotStats;
  /** Transfers that found their data connection already open (data-connection/ready.ts). */
  readyPassivesUsed: number;
  /** Idle connections whose next data connection is open (closed if unused: data-connection/ready.ts). */
  readyIdle: number;
  /** Idle connections still opening their next data connection (a command there waits for it). */
  preparingIdle: number;
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
  /** While a batch overlaps set-up with transfers: the cap on data transfers (data-connection/slots.ts). */
  #dataSlots: DataSlots | undefined;
  /** Runs of transfers announced (`expectTransfers`): idle connections get their passive ready. */
  #expected = 0;
  #readyPassivesUsed = 0;

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
      readyPassivesUsed: this.#readyPassivesUsed,
      readyIdle: this.#idle.filter((c) => c.preparing === undefined && hasReadyPassive(c.client.ftp)).length,
      preparingIdle: this.#idle.filter((c) => c.preparing !== undefined).length,
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
   * Announces a run of transfers whose next ones are not known yet (a recursive walk: each
   * listing names the folders to list next). Until the returned function is called: connections
   * are logged in up to the cap at once, in the background (on a 50 ms link a login is ~6 round
   * trips: paid while the walk's first levels are listed, not when it widens), and a connection
   * left idle opens its next passive data connection (data-connection/ready.ts), so a listing handed to
   * it costs one round trip instead of three. A 421 while logging in lowers the cap as usual.
   */
  expectTransfers(): () => void {
    this.#expected++;
    for (let n = this.stats.open; n < this.#limit && !this.#closing; n++) this.#openSpare();
    for (const conn of this.#idle) this.#prepareWhenIdle(conn);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#expected--;
    };
  }

  /** Opens and logs in one more connection for the pool, failures only logged. */
  #openSpare(): void {
    this.#opening++;
    void openConnection(this.#server).then(
      (client) => {
        this.#opening--;
        this.#release({ client, idleSince: Date.now() });
      },
      (err: unknown) => {
        this.#opening--;
        if (isTooManyConnections(err)) this.#lowerLimit();
        else this.#log?.debug({ host: this.#server.host, err }, 'could not open a spare connection');
        // a waiter may be counting on the slot it held
        this.#nextWaiter()?.(null);
        this.#checkDrained();
      },
    );
  }

  /**
   * A connection still idle after the current turn of the event loop (a caller that wanted it at
   * once has taken it) opens its next passive data connection while runs are expected.
   */
  #prepareWhenIdle(conn: PooledConnection): void {
    if (this.#expected === 0 || conn.preparing !== undefined || hasReadyPassive(conn.client.ftp)) return;
    setImmediate(() => {
      if (this.#expected === 0 || this.#closing || !this.#idle.includes(conn)) return;
      if (conn.preparing !== undefined || hasReadyPassive(conn.client.ftp)) return;
      // the set-up of no transfer in particular: no data slot to wait for
      gateTransfers(conn.client.ftp, undefined);
      conn.preparing = preparePassive(conn.client).then(
        () => {
          conn.preparing = undefined;
          conn.readyAt = Date.now();
          if (this.#idle.includes(conn)) this.#armReadyExpiry(conn);
        },
        (err: unknown) => {
          conn.preparing = undefined;
          this.#log?.debug({ host: this.#server.host, err }, 'could not prepare a passive connection');
          if (conn.client.closed) this.#dropIdle(conn);
        },
      );
    });
  }

  /**
   * An unused data connection is never left to servers' data timeouts (data-connection/ready.ts):
   * it expires READY_MAX_AGE_MS after it became ready, also when its connection went out for a
   * command that did not use it (SIZE, MDTM) and came back still holding it.
   */
  #armReadyExpiry(conn: PooledConnection): void {
    clearTimeout(conn.idleTimer);
    const left = Math.max(0, (conn.readyAt ?? 0) + READY_MAX_AGE_MS - Date.now());
    conn.idleTimer = setTimeout(() => this.#expireReady(conn), left).unref();
  }

  /** A ready connection left unused: drop its data connection where that is safe, else close it. */
  #expireReady(conn: PooledConnection): void {
    if (!dropReadyPassive(conn.client.ftp)) {
      this.#dropIdle(conn);
      return;
    }
    this.#closeIdleAfter(conn, Math.max(0, conn.idleSince + IDLE_CLOSE_AFTER_MS - Date.now()));
  }

  #dropIdle(conn: PooledConnection): void {
    const i = this.#idle.indexOf(conn);
    if (i < 0) return;
    this.#idle.splice(i, 1);
    this.#discard(conn);
  }

  #closeIdleAfter(conn: PooledConnection, ms: number): void {
    clearTimeout(conn.idleTimer);
    conn.idleTimer = setTimeout(() => this.#dropIdle(conn), ms).unref();
  }

  /**
   * The idle connection to hand out: one whose passive data connection is ready, else one
   * opening it (it is ready sooner than a fresh set-up), else the most recently used. A command
   * without a data connection (SIZE, MDTM, a walk's STAT) takes one with none ready or being
   * prepared (it would wait for that set-up) and no prefetched EPSV reply (vsftpd: the reply
   * stays good, but a STAT waits for one still on its way) when there is one, leaving those to
   * the transfers; else a ready one (the command does not disturb its data connection).
   */
  #takeIdle(ctx: FtpErrorContext): PooledConnection | undefined {
    if (ctx.command !== undefined && NO_DATA_COMMANDS.has(ctx.command)) {
      const plain = this.#idle.findLastIndex(
        (c) =>
          c.preparing === undefined && !hasReadyPassive(c.client.ftp) && !hasPrefetchedPassive(c.client.ftp),
      );
      if (plain >= 0) return this.#idle.splice(plain, 1)[0];
    }
    const ready = this.#idle.findLastIndex((c) => c.preparing === undefined && hasReadyPassive(c.client.ftp));
    const preparing = ready >= 0 ? ready : this.#idle.findLastIndex((c) => c.preparing !== undefined);
    const i = preparing >= 0 ? preparing : this.#idle.length - 1;
    return i < 0 ? undefined : this.#idle.splice(i, 1)[0];
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

      const idle = this.#takeIdle(ctx);
      if (idle !== undefined) {
        clearTimeout(idle.idleTimer);
        // Counted while checked: others must not open a connection in its place meanwhile
        // (that briefly exceeded the cap, which a strict server answers with 421).
        this.#checking++;
        let healthy: boolean;
        try {
          // (settles, never rejects: see #prepareWhenIdle); no extra turn when nothing is prepared
          if (idle.preparing !== undefined) await idle.preparing;
          healthy = await this.#healthy(idle);
        } finally {
          this.#checking--;
        }
        if (healthy) {
          if (hasReadyPassive(idle.client.ftp)) this.#readyPassivesUsed++;
          return this.#markBusy(idle);
        }
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

      // (a connection handed over is already counted busy: see #release)
      const handed = await this.#waitForRelease(ctx, signal, priority);
      if (handed !== null) return handed;
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
    // (a prepared connection is younger than READY_MAX_AGE_MS: it is closed before that)
    if (Date.now() - conn.idleSince < HEALTH_CHECK_AFTER_MS || hasReadyPassive(conn.client.ftp)) return true;
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
      // Busy from now on, not when the waiter's continuation runs a few microtasks later: until
      // then it would be in neither #idle nor #busy, and an acquire meanwhile would open a
      // connection over the cap.
      this.#markBusy(conn);
      waiter(conn);
      return;
    }
    if (this.#closing) {
      conn.client.close();
      this.#checkDrained();
      return;
    }
    conn.idleSince = Date.now();
    if (hasReadyPassive(conn.client.ftp)) this.#armReadyExpiry(conn);
    else this.#closeIdleAfter(conn, IDLE_CLOSE_AFTER_MS);
    this.#idle.push(conn);
    this.#prepareWhenIdle(conn);
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
