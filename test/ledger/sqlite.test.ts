/**
 * The SQLite store: the shared contract on a temp file, then what only SQLite has (one file,
 * WAL, `user_version` migrations, folders created on open, `openLedger` routing).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LedgerError } from '../../src/errors.js';
import type { Ledger } from '../../src/ledger/ledger.js';
import { openLedger } from '../../src/ledger/open.js';
import { SQLITE_SCHEMA_VERSION, SqliteLedger } from '../../src/ledger/sqlite.js';
import { ledgerContract } from './contract.js';

const root = mkdtempSync(join(tmpdir(), 'radarlib-ledger-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

let n = 0;
const paths = new WeakMap<Ledger, string>();

ledgerContract(
  'sqlite',
  async () => {
    n += 1;
    const path = join(root, `contract-${n}`, 'ledger.db');
    const ledger = SqliteLedger.open(path);
    paths.set(ledger, path);
    return ledger;
  },
  async (ledger) => {
    const path = paths.get(ledger);
    if (path !== undefined) rmSync(join(path, '..'), { recursive: true, force: true });
  },
  {
    reopen: async (closed) => {
      const path = paths.get(closed) as string;
      const ledger = SqliteLedger.open(path);
      paths.set(ledger, path);
      return ledger;
    },
    refuseLocalPath: async (ledger, localPath) => {
      // From a second connection, as another process could: the ledger's statements see it.
      const db = new Database(paths.get(ledger) as string);
      try {
        db.prepare(
          `CREATE TRIGGER refuse_local_path BEFORE UPDATE OF local_path ON files
             WHEN NEW.local_path = '${localPath.replaceAll("'", "''")}'
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`,
        ).run();
      } finally {
        db.close();
      }
    },
  },
);

test('sqlite: open creates missing folders, one WAL file, schema at the current version', async () => {
  const path = join(root, 'deep', 'er', 'ledger.db');
  const ledger = SqliteLedger.open(path);
  assert.equal(ledger.backend, 'sqlite');
  assert.equal(ledger.path, path);
  await ledger.observe('s', [{ remotePath: '/a', size: 1, mtime: null }], { now: 1, minAgeMs: 0 });
  await ledger.close();
  assert.ok(existsSync(path));
  const db = new Database(path, { readonly: true });
  try {
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('user_version', { simple: true }), SQLITE_SCHEMA_VERSION);
    const indexes = db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'files' AND sql IS NOT NULL",
      )
      .pluck()
      .all();
    assert.deepEqual([...indexes].sort(), ['files_identity', 'files_queue', 'files_recent']);
  } finally {
    db.close();
  }
  // Reopening an up-to-date file migrates nothing and keeps the rows.
  const again = SqliteLedger.open(path);
  assert.equal((await again.counts()).seen, 1);
  await again.close();
});

test('sqlite: the hot queries read indexes, never the whole table', async () => {
  const path = join(root, 'plan', 'ledger.db');
  await SqliteLedger.open(path).close();
  const db = new Database(path, { readonly: true });
  try {
    const plan = (sql: string): string =>
      db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all()
        .map((r) => (r as { detail: string }).detail)
        .join(' | ');
    const cases: [string, RegExp][] = [
      ["SELECT id FROM files WHERE source = 's' AND remote_path = '/a'", /files_identity/],
      [
        "SELECT id FROM files WHERE source = 's' AND state = 'ready' AND coalesce(next_attempt_at, 0) <= 5 ORDER BY coalesce(next_attempt_at, 0), id LIMIT 5",
        /files_queue/,
      ],
      [
        "SELECT * FROM files WHERE state = 'processed' ORDER BY updated_at DESC, id DESC LIMIT 5",
        /files_recent/,
      ],
      ["SELECT id FROM files WHERE state = 'downloading' AND lease_until <= 5", /files_recent/],
    ];
    for (const [sql, index] of cases) {
      const p = plan(sql);
      assert.match(p, index, sql);
      assert.doesNotMatch(p, /^SCAN files$|TEMP B-TREE/, sql);
    }
  } finally {
    db.close();
  }
});

test('sqlite: a ledger from a newer radarlib is refused, not damaged', async () => {
  const path = join(root, 'newer', 'ledger.db');
  await SqliteLedger.open(path).close();
  const db = new Database(path);
  db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
  db.close();
  assert.throws(
    () => SqliteLedger.open(path),
    (err: unknown) =>
      err instanceof LedgerError && err.code === 'RADARLIB_LEDGER' && /newer/.test(err.message),
  );
});

test('sqlite: a path that cannot be a database gives LedgerError naming it', () => {
  const blocker = join(root, 'a-file');
  writeFileSync(blocker, 'not a folder');
  const path = join(blocker, 'ledger.db');
  assert.throws(
    () => SqliteLedger.open(path),
    (err: unknown) => err instanceof LedgerError && err.message.includes(path),
  );
});

test('openLedger: file paths and sqlite: URLs open SQLite; other schemes are refused', async () => {
  for (const spec of [
    join(root, 'o1', 'l.db'),
    `sqlite://${join(root, 'o2', 'l.db')}`,
    `sqlite:${join(root, 'o3', 'l.db')}`,
  ]) {
    const ledger = await openLedger(spec);
    assert.equal(ledger.backend, 'sqlite', spec);
    await ledger.close();
  }
  assert.ok(existsSync(join(root, 'o2', 'l.db')));
  assert.ok(existsSync(join(root, 'o3', 'l.db')));
  const mem = await openLedger('sqlite::memory:');
  assert.equal((await mem.counts()).seen, 0);
  await mem.close();
  await assert.rejects(openLedger('mysql://h/db'), { code: 'RADARLIB_INVALID_ARGUMENT' });
  await assert.rejects(openLedger(''), { code: 'RADARLIB_INVALID_ARGUMENT' });
});

test('sqlite: a version-1 ledger is migrated in place, rows and their history kept', async () => {
  const path = join(root, 'v1', 'ledger.db');
  mkdirSync(join(root, 'v1'));
  // The schema radarlib 1 wrote (migration 1, verbatim columns), with one row per life stage.
  const db = new Database(path);
  db.exec(`CREATE TABLE files (
     id INTEGER PRIMARY KEY, source TEXT NOT NULL, remote_path TEXT NOT NULL, size INTEGER NOT NULL,
     mtime INTEGER,
     state TEXT NOT NULL CHECK (state IN ('seen','ready','downloading','downloaded','processed','failed')),
     attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, next_attempt_at INTEGER, local_path TEXT,
     callback_error TEXT, lease_token TEXT, lease_owner TEXT, lease_until INTEGER,
     first_seen_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, downloaded_at INTEGER, processed_at INTEGER
   ) STRICT;
   CREATE UNIQUE INDEX files_identity ON files (source, remote_path, size, coalesce(mtime, -1));
   INSERT INTO files (source, remote_path, size, mtime, state, first_seen_at, updated_at, downloaded_at, processed_at, local_path)
   VALUES ('s', '/p.BUFR', 10, 1000, 'processed', 5, 9, 7, 9, '/data/p.BUFR'),
          ('s', '/r.BUFR', 20, 2000, 'ready', 6, 8, NULL, NULL, NULL);
   PRAGMA user_version = 1;`);
  db.close();
  const ledger = SqliteLedger.open(path);
  try {
    const rows = await ledger.recent({ source: 's', limit: 10 });
    const byPath = new Map(rows.map((r) => [r.remotePath, r]));
    assert.equal(byPath.get('/p.BUFR')?.state, 'processed');
    assert.equal(byPath.get('/p.BUFR')?.processedAt, 9);
    assert.equal(byPath.get('/p.BUFR')?.localPath, '/data/p.BUFR');
    assert.equal(byPath.get('/p.BUFR')?.mtimePrecisionMs, 1000);
    assert.equal(byPath.get('/r.BUFR')?.readyAt, 8);
    assert.equal(byPath.get('/r.BUFR')?.stableSince, 8);
    // The new states are accepted: a newer version supersedes the ready row.
    const r = await ledger.observe('s', [{ remotePath: '/r.BUFR', size: 21, mtime: 3000 }], {
      now: 100,
      minAgeMs: Number.POSITIVE_INFINITY,
    });
    assert.equal(r.superseded, 1);
  } finally {
    await ledger.close();
  }
  const check = new Database(path, { readonly: true });
  assert.equal(check.pragma('user_version', { simple: true }), SQLITE_SCHEMA_VERSION);
  check.close();
});
