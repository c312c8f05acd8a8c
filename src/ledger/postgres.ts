/**
 * The shared ledger: several daemon instances on several machines work from one PostgreSQL
 * database, and no coordination of our own is needed beyond what PostgreSQL gives.
 *
 * - Listing: any instance may list a source, one at a time (`withSourceLock`, a session
 *   advisory lock held on a dedicated connection: if the instance dies, the session ends and
 *   the lock with it). Inserts are idempotent (`ON CONFLICT DO NOTHING` on the identity index),
 *   and every update is conditional on what was read, so even two listers at once are safe.
 * - Work: instances claim ready rows with `FOR UPDATE SKIP LOCKED` (never the same row twice,
 *   never waiting on each other), each with a random lease token and `lease_until`. Holders
 *   renew; `complete`/`fail` succeed only while the token is still the row's. Expired leases
 *   are returned to `ready` by `reclaimExpired`, from any instance.
 * - Schema: versioned in `radarlib_schema_migrations`, migrated at connect under an advisory
 *   lock so instances starting together apply each migration once.
 *
 * Needs PostgreSQL ≥ 13 (`gen_random_uuid()` in core).
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type pg from 'pg';
import type { PoolClient, QueryResultRow } from 'pg';
import { InvalidArgumentError, LeaseLostError, LedgerError, RadarlibError } from '../errors.js';
import {
  checkLimit,
  checkSource,
  emptyCounts,
  errorMessage,
  folderOf,
  mtimeKey,
  normalizeListing,
  planObserve,
  sqlStates,
  SUPERSEDABLE_STATES,
  toRecord,
  VANISHABLE_STATES,
  VERSION_COLUMNS,
} from './common.js';
import type { FileRow, NormalizedFile, VersionRow } from './common.js';
import { FILE_STATES } from './ledger.js';
import type {
  Claim,
  Completion,
  FailOptions,
  FileRecord,
  FileState,
  Ledger,
  ListedFile,
  ObserveOptions,
  ObserveResult,
  StateCounts,
} from './ledger.js';

// The driver loads on the first connect, not when radarlib is imported (most users run SQLite).
const loadPg = (): typeof pg => createRequire(import.meta.url)('pg') as typeof pg;

/** Options of {@link PostgresLedger.connect}: pool sizes, lease and lock settings. */
export interface PostgresLedgerOptions {
  /**
   * Schema holding radarlib's tables (created if missing). Also settable as `?schema=` in the URL.
   * @default 'public'
   */
  schema?: string;
  /** Connections for ledger queries. @default 8 */
  poolSize?: number;
  /**
   * Connections that hold per-source listing locks while a source is listed; more sources
   * listed at once than this wait for a free one. @default 4
   */
  lockPoolSize?: number;
  /** Connect timeout of each connection. @default 10000 */
  connectTimeoutMs?: number;
  /**
   * `application_name` of the connections, shown in `pg_stat_activity`: put the instance's name
   * here to see which instance holds which lock. @default 'radarlib'
   */
  applicationName?: string;
}

/** Migration SQL, in order; `{s}` is the quoted schema. Append only. */
const MIGRATIONS: readonly string[] = [
  // 1: one row per version of a remote file (same columns as the SQLite store).
  `CREATE TABLE {s}.radarlib_files (
     id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     source          text    NOT NULL,
     remote_path     text    NOT NULL,
     size            bigint  NOT NULL,
     mtime           bigint,
     state           text    NOT NULL CHECK (state IN ('seen','ready','downloading','downloaded','processed','failed')),
     attempts        integer NOT NULL DEFAULT 0,
     last_error      text,
     next_attempt_at bigint,
     local_path      text,
     callback_error  text,
     lease_token     text,
     lease_owner     text,
     lease_until     bigint,
     first_seen_at   bigint  NOT NULL,
     updated_at      bigint  NOT NULL,
     downloaded_at   bigint,
     processed_at    bigint
   );
   CREATE UNIQUE INDEX radarlib_files_identity ON {s}.radarlib_files (source, remote_path, size, (coalesce(mtime, -1)));
   CREATE INDEX radarlib_files_queue ON {s}.radarlib_files (source, state, (coalesce(next_attempt_at, 0)), id);
   CREATE INDEX radarlib_files_recent ON {s}.radarlib_files (state, updated_at, id);`,
  // 2: states superseded and vanished, the precision of mtime, the settle period's start and the
  // ready stage timestamp (same as SQLite's migration 2).
  `ALTER TABLE {s}.radarlib_files DROP CONSTRAINT radarlib_files_state_check;
   ALTER TABLE {s}.radarlib_files ADD CONSTRAINT radarlib_files_state_check
     CHECK (state IN ('seen','ready','downloading','downloaded','processed','failed','superseded','vanished'));
   ALTER TABLE {s}.radarlib_files
     ADD COLUMN mtime_precision_ms bigint NOT NULL DEFAULT 1000,
     ADD COLUMN stable_since bigint,
     ADD COLUMN ready_at bigint;
   UPDATE {s}.radarlib_files
      SET stable_since = updated_at, ready_at = CASE WHEN state = 'ready' THEN updated_at END;`,
  // 3: the zone offset a LIST time was corrected with (same as SQLite's migration 3).
  `ALTER TABLE {s}.radarlib_files ADD COLUMN zone_offset_ms bigint NOT NULL DEFAULT 0;`,
];

export const POSTGRES_SCHEMA_VERSION = MIGRATIONS.length;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** SQLSTATEs after which a whole `observe` is simply run again (see #observeOnce). */
const RETRYABLE = new Set(['40001', '40P01', '23505']);
const OBSERVE_TRIES = 4;

/** A 64-bit advisory-lock key. Advisory locks are per database, so the schema is part of it. */
function lockKey(schema: string, what: string): string {
  return createHash('sha256').update(`radarlib\0${schema}\0${what}`).digest().readBigInt64BE(0).toString();
}

function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function positiveInt(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(option, `must be a positive integer, got ${value}`);
  }
  return value;
}

/**
 * The PostgreSQL ledger, for several daemon instances sharing one source: claims with
 * `FOR UPDATE SKIP LOCKED`, leases checked at completion, one lister per source through an
 * advisory lock. The driver (pg) loads on the first connect. See docs/MULTI-INSTANCE.md.
 */
export class PostgresLedger implements Ledger {
  readonly backend = 'postgres' as const;
  /** Where this ledger lives, without credentials (`host:port/db schema`), for logs. */
  readonly target: string;
  readonly schema: string;

  readonly #pool: pg.Pool;
  readonly #lockPool: pg.Pool;
  /** Table name, schema-qualified and quoted. */
  readonly #t: string;
  #closed = false;

  private constructor(pool: pg.Pool, lockPool: pg.Pool, schema: string, target: string) {
    this.#pool = pool;
    this.#lockPool = lockPool;
    this.schema = schema;
    this.target = target;
    this.#t = `"${schema}".radarlib_files`;
  }

  /**
   * Connects to `url` (`postgres://user:pass@host:port/db[?schema=name]`), creates the schema
   * if needed and applies pending migrations. Throws LedgerError (without the password) when the
   * server is unreachable or the schema is newer than this radarlib.
   */
  static async connect(url: string, options: PostgresLedgerOptions = {}): Promise<PostgresLedger> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new InvalidArgumentError('ledger', 'not a valid postgres:// URL');
    }
    const schema = options.schema ?? parsed.searchParams.get('schema') ?? 'public';
    parsed.searchParams.delete('schema');
    if (!IDENT.test(schema)) {
      throw new InvalidArgumentError(
        'schema',
        `must be a plain SQL identifier, got ${JSON.stringify(schema)}`,
      );
    }
    const target = `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}${parsed.pathname} schema ${schema}`;
    const base = {
      connectionString: parsed.href,
      connectionTimeoutMillis: positiveInt('connectTimeoutMs', options.connectTimeoutMs, 10_000),
      idleTimeoutMillis: 30_000,
      application_name: options.applicationName ?? 'radarlib',
    };
    const pool = new (loadPg().Pool)({ ...base, max: positiveInt('poolSize', options.poolSize, 8) });
    const lockPool = new (loadPg().Pool)({
      ...base,
      max: positiveInt('lockPoolSize', options.lockPoolSize, 4),
    });
    // An idle connection that the server or network dropped: pg removes it from the pool and the
    // next query opens a new one. Without a listener the 'error' event would crash the process.
    pool.on('error', () => {});
    lockPool.on('error', () => {});
    const ledger = new PostgresLedger(pool, lockPool, schema, target);
    try {
      await ledger.#migrate();
    } catch (err) {
      await Promise.allSettled([pool.end(), lockPool.end()]);
      if (err instanceof RadarlibError) throw err;
      throw new LedgerError('postgres', `cannot open ledger at ${target}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    return ledger;
  }

  async #migrate(): Promise<void> {
    const s = `"${this.schema}"`;
    await this.#withClient(this.#pool, async (c) => {
      await c.query('SELECT pg_advisory_lock($1::bigint)', [lockKey(this.schema, 'migrate')]);
      try {
        const exists = await c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [this.schema]);
        if (exists.rowCount === 0) await c.query(`CREATE SCHEMA ${s}`);
        await c.query(
          `CREATE TABLE IF NOT EXISTS ${s}.radarlib_schema_migrations (
             version integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now())`,
        );
        const r = await c.query<{ v: number | null }>(
          `SELECT max(version) AS v FROM ${s}.radarlib_schema_migrations`,
        );
        const current = r.rows[0]?.v ?? 0;
        if (current > MIGRATIONS.length) {
          throw new LedgerError(
            'postgres',
            `${this.target} has schema version ${current}, newer than this radarlib understands (${MIGRATIONS.length}); upgrade radarlib`,
          );
        }
        for (let v = current; v < MIGRATIONS.length; v++) {
          await c.query('BEGIN');
          try {
            await c.query((MIGRATIONS[v] as string).replaceAll('{s}', s));
            await c.query(`INSERT INTO ${s}.radarlib_schema_migrations (version) VALUES ($1)`, [v + 1]);
            await c.query('COMMIT');
          } catch (err) {
            await c.query('ROLLBACK').catch(() => {});
            throw err;
          }
        }
      } finally {
        // If the session broke, it is destroyed on release and the lock ends with it.
        await c
          .query('SELECT pg_advisory_unlock($1::bigint)', [lockKey(this.schema, 'migrate')])
          .catch(() => {});
      }
    });
  }

  async observe(
    source: string,
    files: readonly ListedFile[],
    options: ObserveOptions,
  ): Promise<ObserveResult> {
    checkSource(source);
    const listed = normalizeListing(files);
    return this.#wrap('observe', async () => {
      if (listed.length === 0 && (options.completeFolders ?? []).length === 0) {
        return { added: 0, becameReady: 0, superseded: 0, vanished: 0, settleDueAt: null };
      }
      // Two listers at once (no source lock, or a lock lost with its session) can collide on a
      // row or the identity index; the loser's transaction rolls back and simply runs again.
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.#transaction((c) => this.#observeOnce(c, source, listed, options));
        } catch (err) {
          const state = sqlState(err);
          if (attempt >= OBSERVE_TRIES || state === undefined || !RETRYABLE.has(state)) throw err;
        }
      }
    });
  }

  async #observeOnce(
    c: PoolClient,
    source: string,
    listed: readonly NormalizedFile[],
    options: ObserveOptions,
  ): Promise<ObserveResult> {
    const { now, minAgeMs } = options;
    const settleMs = options.settleMs ?? 0;
    const folders = new Set(options.completeFolders ?? []);
    const found = await c.query<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM ${this.#t}
        WHERE source = $1 AND remote_path = ANY($2::text[])`,
      [source, listed.map((f) => f.remotePath)],
    );
    const unfinished =
      folders.size === 0
        ? []
        : (
            await c.query<VersionRow>(
              `SELECT ${VERSION_COLUMNS} FROM ${this.#t}
                WHERE source = $1 AND state IN (${sqlStates(VANISHABLE_STATES)})`,
              [source],
            )
          ).rows.filter((r) => folders.has(folderOf(r.remote_path)));
    const versions = new Map<string, VersionRow[]>();
    for (const row of found.rows) {
      const list = versions.get(row.remote_path);
      if (list === undefined) versions.set(row.remote_path, [row]);
      else list.push(row);
    }
    const plan = planObserve(listed, versions, { now, minAgeMs, settleMs }, unfinished);
    let added = 0;
    let becameReady = 0;
    let superseded = 0;
    let vanished = 0;
    if (plan.toReady.length > 0) {
      const r = await c.query(
        `UPDATE ${this.#t} f SET state = 'ready', ready_at = $1, updated_at = $1
           FROM unnest($2::bigint[], $3::bigint[], $4::bigint[]) AS u(id, size, mk)
          WHERE f.id = u.id AND f.state = 'seen' AND f.size = u.size AND coalesce(f.mtime, -1) = u.mk`,
        [
          now,
          plan.toReady.map((x) => x.id),
          plan.toReady.map((x) => x.size),
          plan.toReady.map((x) => mtimeKey(x.mtime)),
        ],
      );
      becameReady += r.rowCount ?? 0;
    }
    if (plan.toUpdate.length > 0) {
      const u = plan.toUpdate;
      const r = await c.query<{ state: string }>(
        `UPDATE ${this.#t} f
            SET size = u.size, mtime = u.mtime, mtime_precision_ms = u.precision, zone_offset_ms = u.zone,
                state = u.state, stable_since = $1::bigint,
                ready_at = CASE WHEN u.state = 'ready' THEN $1::bigint END, updated_at = $1::bigint
           FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[],
                       $8::text[], $9::bigint[])
                AS u(id, osize, omk, size, mtime, precision, state, zone)
          WHERE f.id = u.id AND f.state = 'seen' AND f.size = u.osize AND coalesce(f.mtime, -1) = u.omk
          RETURNING f.state`,
        [
          now,
          u.map((x) => x.id),
          u.map((x) => x.oldSize),
          u.map((x) => mtimeKey(x.oldMtime)),
          u.map((x) => x.size),
          u.map((x) => x.mtime),
          u.map((x) => x.mtimePrecisionMs),
          u.map((x) => x.state),
          u.map((x) => x.zoneOffsetMs),
        ],
      );
      becameReady += r.rows.filter((x) => x.state === 'ready').length;
    }
    if (plan.toRekey.length > 0) {
      // After toReady, whose writes check the stored mtime. A ledger already holding the re-keyed
      // identity keeps both rows as they are.
      const k = plan.toRekey;
      await c.query(
        `UPDATE ${this.#t} f SET mtime = u.mtime, zone_offset_ms = u.zone
           FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) AS u(id, omk, mtime, zone)
          WHERE f.id = u.id AND coalesce(f.mtime, -1) = u.omk
            AND NOT EXISTS (SELECT 1 FROM ${this.#t} o
                             WHERE o.source = f.source AND o.remote_path = f.remote_path AND o.size = f.size
                               AND coalesce(o.mtime, -1) = coalesce(u.mtime, -1) AND o.id <> f.id)`,
        [
          k.map((x) => x.id),
          k.map((x) => mtimeKey(x.oldMtime)),
          k.map((x) => x.mtime),
          k.map((x) => x.zoneOffsetMs),
        ],
      );
    }
    if (plan.toSupersede.length > 0) {
      // Clearing the lease fences a running download of the old version: its complete() fails.
      superseded = await this.#countOn(
        c,
        `UPDATE ${this.#t} SET state = 'superseded', updated_at = $1, next_attempt_at = NULL,
                lease_token = NULL, lease_owner = NULL, lease_until = NULL
          WHERE id = ANY($2::bigint[]) AND state IN (${sqlStates(SUPERSEDABLE_STATES)})`,
        [now, plan.toSupersede],
      );
    }
    if (plan.toInsert.length > 0) {
      const n = plan.toInsert;
      const r = await c.query<{ state: string }>(
        `INSERT INTO ${this.#t} (source, remote_path, size, mtime, mtime_precision_ms, zone_offset_ms, state,
                                 first_seen_at, stable_since, ready_at, updated_at)
         SELECT $1, u.p, u.size, u.mtime, u.precision, u.zone, u.state, $2::bigint, $2::bigint,
                CASE WHEN u.state = 'ready' THEN $2::bigint END, $2::bigint
           FROM unnest($3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[], $8::bigint[])
                AS u(p, size, mtime, precision, state, zone)
         ON CONFLICT DO NOTHING
         RETURNING state`,
        [
          source,
          now,
          n.map((x) => x.remotePath),
          n.map((x) => x.size),
          n.map((x) => x.mtime),
          n.map((x) => x.mtimePrecisionMs),
          n.map((x) => x.state),
          n.map((x) => x.zoneOffsetMs),
        ],
      );
      added += r.rowCount ?? 0;
      becameReady += r.rows.filter((x) => x.state === 'ready').length;
    }
    if (plan.toVanish.length > 0) {
      vanished = await this.#countOn(
        c,
        `UPDATE ${this.#t} SET state = 'vanished', updated_at = $1, next_attempt_at = NULL
          WHERE id = ANY($2::bigint[]) AND state IN (${sqlStates(VANISHABLE_STATES)})`,
        [now, plan.toVanish],
      );
    }
    if (plan.toRevive.length > 0) {
      await c.query(
        `UPDATE ${this.#t} SET state = 'seen', stable_since = $1, updated_at = $1
          WHERE id = ANY($2::bigint[]) AND state = 'vanished'`,
        [now, plan.toRevive],
      );
    }
    return { added, becameReady, superseded, vanished, settleDueAt: plan.settleDueAt };
  }

  async #countOn(c: PoolClient, sql: string, params: unknown[]): Promise<number> {
    return (await c.query(sql, params)).rowCount ?? 0;
  }

  async claimReady(
    source: string,
    limit: number,
    options: { now: number; leaseMs: number; owner: string },
  ): Promise<Claim[]> {
    checkSource(source);
    checkLimit(limit);
    if (limit === 0) return [];
    const { now, leaseMs, owner } = options;
    const leaseUntil = now + leaseMs;
    // SKIP LOCKED: rows another instance is claiming right now are passed over, not waited for.
    const rows = await this.#query<FileRow & { lease_token: string }>(
      'claimReady',
      `UPDATE ${this.#t} f
          SET state = 'downloading', lease_token = gen_random_uuid()::text, lease_owner = $4,
              lease_until = $5, updated_at = $2
         FROM (SELECT id FROM ${this.#t}
                WHERE source = $1 AND state = 'ready' AND coalesce(next_attempt_at, 0) <= $2
                ORDER BY coalesce(next_attempt_at, 0), id
                LIMIT $3
                FOR UPDATE SKIP LOCKED) picked
        WHERE f.id = picked.id
        RETURNING f.*`,
      [source, now, limit, owner, leaseUntil],
    );
    return rows
      .map((row) => ({ record: toRecord(row), token: row.lease_token, leaseUntil }))
      .sort(
        (a, b) => (a.record.nextAttemptAt ?? 0) - (b.record.nextAttemptAt ?? 0) || a.record.id - b.record.id,
      );
  }

  async renewLease(claim: Claim, options: { now: number; leaseMs: number }): Promise<boolean> {
    const leaseUntil = options.now + options.leaseMs;
    const n = await this.#count(
      'renewLease',
      `UPDATE ${this.#t} SET lease_until = $1 WHERE id = $2 AND state = 'downloading' AND lease_token = $3`,
      [leaseUntil, claim.record.id, claim.token],
    );
    if (n === 1) claim.leaseUntil = leaseUntil;
    return n === 1;
  }

  async complete(claim: Claim, localPath: string, options: { now: number }): Promise<FileRecord> {
    const rows = await this.#query<FileRow>(
      'complete',
      `UPDATE ${this.#t}
          SET state = 'downloaded', attempts = attempts + 1, local_path = $1, downloaded_at = $2,
              updated_at = $2, next_attempt_at = NULL, lease_token = NULL, lease_owner = NULL, lease_until = NULL
        WHERE id = $3 AND state = 'downloading' AND lease_token = $4
        RETURNING *`,
      [localPath, options.now, claim.record.id, claim.token],
    );
    const row = rows[0];
    if (row === undefined) throw new LeaseLostError(claim.record.remotePath);
    return toRecord(row);
  }

  async completeMany(
    completions: readonly Completion[],
    options: { now: number },
  ): Promise<(FileRecord | null)[]> {
    if (completions.length === 0) return [];
    // One statement: atomic without an explicit transaction, and one round trip for the group.
    const rows = await this.#query<FileRow & { claim_token: string }>(
      'completeMany',
      `UPDATE ${this.#t} AS f
          SET state = 'downloaded', attempts = f.attempts + 1, local_path = c.local_path, downloaded_at = $1,
              updated_at = $1, next_attempt_at = NULL, lease_token = NULL, lease_owner = NULL, lease_until = NULL
         FROM unnest($2::bigint[], $3::text[], $4::text[]) AS c(id, token, local_path)
        WHERE f.id = c.id AND f.state = 'downloading' AND f.lease_token = c.token
        RETURNING f.*, c.token AS claim_token`,
      [
        options.now,
        completions.map((c) => c.claim.record.id),
        completions.map((c) => c.claim.token),
        completions.map((c) => c.localPath),
      ],
    );
    const key = (id: number, token: string): string => `${id} ${token}`;
    const recorded = new Map(rows.map((row) => [key(Number(row.id), row.claim_token), toRecord(row)]));
    // A claim given twice is recorded once: its first occurrence gets the row (as in SQLite).
    return completions.map(({ claim }) => {
      const k = key(claim.record.id, claim.token);
      const record = recorded.get(k) ?? null;
      recorded.delete(k);
      return record;
    });
  }

  async fail(claim: Claim, error: string, options: FailOptions): Promise<boolean> {
    const state: FileState = options.retryAt === null ? 'failed' : 'ready';
    const n = await this.#count(
      'fail',
      `UPDATE ${this.#t}
          SET state = $1, attempts = attempts + 1, last_error = $2, next_attempt_at = $3, updated_at = $4,
              lease_token = NULL, lease_owner = NULL, lease_until = NULL
        WHERE id = $5 AND state = 'downloading' AND lease_token = $6`,
      [state, error, options.retryAt, options.now, claim.record.id, claim.token],
    );
    return n === 1;
  }

  async requeue(claim: Claim, reason: string, options: { now: number }): Promise<boolean> {
    const n = await this.#count(
      'requeue',
      `UPDATE ${this.#t}
          SET state = 'seen', last_error = $1, stable_since = $2, ready_at = NULL, updated_at = $2,
              next_attempt_at = NULL, lease_token = NULL, lease_owner = NULL, lease_until = NULL
        WHERE id = $3 AND state = 'downloading' AND lease_token = $4`,
      [reason, options.now, claim.record.id, claim.token],
    );
    return n === 1;
  }

  async markProcessed(id: number, callbackError: string | null, options: { now: number }): Promise<void> {
    const n = await this.#count(
      'markProcessed',
      `UPDATE ${this.#t} SET state = 'processed', callback_error = $1, processed_at = $2, updated_at = $2
        WHERE id = $3 AND state IN ('downloaded', 'processed')`,
      [callbackError, options.now, id],
    );
    if (n === 0) {
      const row = await this.get(id);
      throw new LedgerError(
        'postgres',
        row === null
          ? `markProcessed: no row ${id}`
          : `markProcessed: row ${id} (${row.remotePath}) is ${row.state}, not downloaded`,
      );
    }
  }

  async pendingCallbacks(source: string, limit: number): Promise<FileRecord[]> {
    checkSource(source);
    checkLimit(limit);
    const rows = await this.#query<FileRow>(
      'pendingCallbacks',
      `SELECT * FROM ${this.#t} WHERE source = $1 AND state = 'downloaded'
        ORDER BY coalesce(next_attempt_at, 0), id LIMIT $2`,
      [source, limit],
    );
    return rows.map(toRecord);
  }

  async reclaimExpired(options: { now: number }): Promise<number> {
    return this.#count(
      'reclaimExpired',
      `UPDATE ${this.#t}
          SET state = 'ready', next_attempt_at = NULL, updated_at = $1,
              last_error = 'lease of ' || coalesce(lease_owner, '?') || ' expired during download',
              lease_token = NULL, lease_owner = NULL, lease_until = NULL
        WHERE state = 'downloading' AND lease_until <= $1`,
      [options.now],
    );
  }

  async retryFailed(source?: string): Promise<number> {
    const sql = `UPDATE ${this.#t} SET state = 'ready', attempts = 0, next_attempt_at = NULL, updated_at = $1
                  WHERE state = 'failed'`;
    return source === undefined
      ? this.#count('retryFailed', sql, [Date.now()])
      : this.#count('retryFailed', `${sql} AND source = $2`, [Date.now(), source]);
  }

  async counts(source?: string): Promise<StateCounts> {
    const rows = await this.#query<{ state: string; n: string }>(
      'counts',
      source === undefined
        ? `SELECT state, count(*) AS n FROM ${this.#t} GROUP BY state`
        : `SELECT state, count(*) AS n FROM ${this.#t} WHERE source = $1 GROUP BY state`,
      source === undefined ? [] : [source],
    );
    const counts = emptyCounts();
    for (const r of rows) counts[r.state as FileState] = Number(r.n);
    return counts;
  }

  async recent(options: {
    states?: readonly FileState[];
    source?: string;
    limit: number;
  }): Promise<FileRecord[]> {
    const { source, limit } = options;
    checkLimit(limit);
    const states = [...new Set(options.states ?? FILE_STATES)];
    // One ordered index read per state (LATERAL), merged: O(states × limit), not O(rows).
    const rows = await this.#query<FileRow>(
      'recent',
      `SELECT r.* FROM unnest($1::text[]) AS s(state)
        CROSS JOIN LATERAL (
          SELECT * FROM ${this.#t} f
           WHERE f.state = s.state AND ($3::text IS NULL OR f.source = $3)
           ORDER BY f.updated_at DESC, f.id DESC LIMIT $2) r
        ORDER BY r.updated_at DESC, r.id DESC LIMIT $2`,
      [states, limit, source ?? null],
    );
    return rows.map(toRecord);
  }

  async get(id: number): Promise<FileRecord | null> {
    const rows = await this.#query<FileRow>('get', `SELECT * FROM ${this.#t} WHERE id = $1`, [id]);
    return rows[0] === undefined ? null : toRecord(rows[0]);
  }

  /**
   * Runs `fn` while this instance holds the session advisory lock of `source` on a connection
   * of its own, kept for the whole call. Another instance (or another call here) gets null at
   * once. If this process dies, PostgreSQL ends the session and frees the lock. Should the
   * connection drop while `fn` runs, the lock is gone and another instance may list too; that
   * is safe because `observe` is idempotent.
   */
  async withSourceLock<T>(source: string, fn: () => Promise<T>): Promise<T | null> {
    checkSource(source);
    const key = lockKey(this.schema, `source:${source}`);
    let locked = false;
    let client: PoolClient | undefined;
    let broken: Error | undefined;
    const onError = (err: Error): void => {
      broken = err;
    };
    try {
      client = await this.#wrap('withSourceLock', () => this.#lockPool.connect());
      client.on('error', onError);
      const r = await this.#wrap('withSourceLock', () =>
        (client as PoolClient).query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [key]),
      );
      locked = r.rows[0]?.ok === true;
      if (!locked) return null;
      return await fn();
    } finally {
      if (client !== undefined) {
        if (locked && broken === undefined) {
          try {
            await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
          } catch (err) {
            broken = err instanceof Error ? err : new Error(String(err));
          }
        }
        client.off('error', onError);
        // A connection that failed is destroyed, not reused: its session (and any lock) ends.
        client.release(broken);
      }
    }
  }

  /** Closes both pools. Idempotent; later calls fail with LedgerError. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.#pool.end(), this.#lockPool.end()]);
  }

  async #query<R extends QueryResultRow>(what: string, sql: string, params: unknown[]): Promise<R[]> {
    return this.#wrap(what, async () => (await this.#pool.query<R>(sql, params)).rows);
  }

  async #count(what: string, sql: string, params: unknown[]): Promise<number> {
    return this.#wrap(what, async () => (await this.#pool.query(sql, params)).rowCount ?? 0);
  }

  async #wrap<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new LedgerError('postgres', `${what}: ledger is closed`);
    try {
      return await fn();
    } catch (err) {
      if (err instanceof RadarlibError) throw err;
      throw new LedgerError('postgres', `${what} on ${this.target}: ${errorMessage(err)}`, { cause: err });
    }
  }

  /** Runs `fn` on one checked-out connection; a connection that failed is destroyed. */
  async #withClient<T>(pool: pg.Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    let broken: Error | undefined;
    const onError = (err: Error): void => {
      broken = err;
    };
    client.on('error', onError);
    try {
      return await fn(client);
    } catch (err) {
      // A server error reply leaves the session usable; anything else (socket, timeout) may not.
      if (!(err instanceof loadPg().DatabaseError) && !(err instanceof RadarlibError)) {
        broken ??= err instanceof Error ? err : new Error(String(err));
      }
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  async #transaction<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    return this.#withClient(this.#pool, async (c) => {
      await c.query('BEGIN');
      try {
        const result = await fn(c);
        await c.query('COMMIT');
        return result;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        throw err;
      }
    });
  }
}
