/**
 * The PostgreSQL store: the shared contract, then what only a shared store has (several
 * connections at once: one lister per source, SKIP LOCKED claims, idempotent concurrent
 * listings, migrations raced by instances starting together).
 *
 * Runs against RADARLIB_TEST_PG_URL, or the loopback cluster `.ci/start-postgres.sh` starts;
 * skips, saying why, when neither answers. Every ledger lives in a fresh schema, dropped after.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { LedgerError } from '../../src/errors.js';
import type { Ledger, ListedFile } from '../../src/ledger/ledger.js';
import { openLedger } from '../../src/ledger/open.js';
import { POSTGRES_SCHEMA_VERSION, PostgresLedger } from '../../src/ledger/postgres.js';
import {
  dropSchema,
  freshSchemaName,
  postgresAvailable,
  redactPgUrl,
  testPgUrl,
} from '../helpers/postgres.js';
import { ledgerContract } from './contract.js';

const url = testPgUrl();
const probe = await postgresAvailable(url);
const skip = probe.ok
  ? false
  : `no PostgreSQL at ${redactPgUrl(url)} (${probe.reason}): run .ci/start-postgres.sh as root, or set RADARLIB_TEST_PG_URL`;

const schemas = new WeakMap<Ledger, string>();
const made = new Set<string>();

async function make(schema = freshSchemaName(), applicationName?: string): Promise<PostgresLedger> {
  made.add(schema);
  const ledger = await PostgresLedger.connect(url, {
    schema,
    ...(applicationName ? { applicationName } : {}),
  });
  schemas.set(ledger, schema);
  return ledger;
}

after(async () => {
  if (!probe.ok) return;
  for (const schema of made) await dropSchema(url, schema).catch(() => {});
});

ledgerContract(
  'postgres',
  () => make(),
  async (ledger) => {
    const schema = schemas.get(ledger);
    if (schema !== undefined) {
      await dropSchema(url, schema);
      made.delete(schema);
    }
  },
  {
    skip,
    reopen: async (closed) => make(schemas.get(closed)),
    refuseLocalPath: async (ledger, localPath) => {
      const schema = schemas.get(ledger) as string;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(
          `CREATE FUNCTION "${schema}".refuse_local_path() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN RAISE EXCEPTION 'refused by the test'; END $$`,
        );
        await client.query(
          `CREATE TRIGGER refuse_local_path BEFORE UPDATE ON "${schema}".radarlib_files FOR EACH ROW
             WHEN (NEW.local_path = ${pg.escapeLiteral(localPath)})
             EXECUTE FUNCTION "${schema}".refuse_local_path()`,
        );
      } finally {
        await client.end();
      }
    },
  },
);

function files(n: number, prefix = '/f'): ListedFile[] {
  return Array.from({ length: n }, (_, i) => ({
    remotePath: `${prefix}${i}.BUFR`,
    size: 100 + i,
    mtime: 1_000,
  }));
}

describe('postgres: several instances on one ledger', { skip }, () => {
  test('migrations: instances starting together apply each migration once', async () => {
    const schema = freshSchemaName();
    const ledgers = await Promise.all([make(schema), make(schema), make(schema)]);
    try {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const r = await client.query(
          `SELECT version FROM "${schema}".radarlib_schema_migrations ORDER BY version`,
        );
        assert.deepEqual(
          r.rows.map((x: { version: number }) => x.version),
          Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1),
        );
      } finally {
        await client.end();
      }
    } finally {
      await Promise.all(ledgers.map((l) => l.close()));
    }
  });

  test('withSourceLock: one lister per source across instances; freed when its session dies', async () => {
    const schema = freshSchemaName();
    const appA = `radarlib-test-${process.pid}-a`;
    const [a, b] = await Promise.all([make(schema, appA), make(schema)]);
    try {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let started = false;
      const holding = a.withSourceLock('rma1', async () => {
        started = true;
        await gate;
        return 'a';
      });
      for (let i = 0; i < 400 && !started; i++) await new Promise((r) => setTimeout(r, 5));
      assert.equal(started, true);
      assert.equal(await b.withSourceLock('rma1', async () => 'b'), null);
      assert.equal(await b.withSourceLock('rma2', async () => 'b2'), 'b2');
      release();
      assert.equal(await holding, 'a');
      assert.equal(await b.withSourceLock('rma1', async () => 'b'), 'b');

      // An instance whose session dies while listing (crash, network): the lock ends with it.
      let started2 = false;
      let unblock!: () => void;
      const blocked = new Promise<void>((resolve) => (unblock = resolve));
      const dying = a.withSourceLock('rma3', async () => {
        started2 = true;
        await blocked;
        return 'a';
      });
      for (let i = 0; i < 400 && !started2; i++) await new Promise((r) => setTimeout(r, 5));
      assert.equal(await b.withSourceLock('rma3', async () => 'b'), null);
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        const killed = await admin.query(
          `SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a
            WHERE a.application_name = $1
              AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.granted)`,
          [appA],
        );
        assert.equal(killed.rowCount, 1);
      } finally {
        await admin.end();
      }
      let got: string | null = null;
      for (let i = 0; i < 100 && got === null; i++) {
        got = await b.withSourceLock('rma3', async () => 'b');
        if (got === null) await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(got, 'b');
      unblock();
      assert.equal(await dying, 'a', 'the old holder finishes; its broken connection is dropped');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('claims: concurrent instances never get the same row (SKIP LOCKED)', async () => {
    const schema = freshSchemaName();
    const instances = await Promise.all([make(schema), make(schema), make(schema)]);
    try {
      const [first] = instances as [PostgresLedger, ...PostgresLedger[]];
      await first.observe('s', files(200), { now: 10_000, minAgeMs: 0 });
      const claimed: number[] = [];
      await Promise.all(
        instances.map(async (l, k) => {
          for (let round = 0; round < 100; round++) {
            const batch = await l.claimReady('s', 3, { now: 20_000, leaseMs: 60_000, owner: `i${k}` });
            if (batch.length === 0) return;
            for (const c of batch) {
              claimed.push(c.record.id);
              await l.complete(c, `/data/${c.record.id}`, { now: 21_000 });
            }
          }
        }),
      );
      assert.equal(claimed.length, 200);
      assert.equal(new Set(claimed).size, 200, 'no row claimed twice');
      assert.equal((await first.counts('s')).downloaded, 200);
    } finally {
      await Promise.all(instances.map((l) => l.close()));
    }
  });

  test('observe: concurrent listings of the same files insert each once', async () => {
    const schema = freshSchemaName();
    const instances = await Promise.all([make(schema), make(schema), make(schema)]);
    try {
      const listing = files(300, '/L2/RMA1/2025/10/20/15/');
      const results = await Promise.all(
        instances.map((l, k) =>
          l.observe('s', listing, { now: 10_000 + k, minAgeMs: Number.POSITIVE_INFINITY }),
        ),
      );
      assert.equal(
        results.reduce((sum, r) => sum + r.added, 0),
        300,
      );
      const counts = await (instances[0] as PostgresLedger).counts('s');
      assert.equal(counts.seen + counts.ready, 300);
      // Concurrent second listings: every row becomes ready exactly once.
      const again = await Promise.all(
        instances.map((l) => l.observe('s', listing, { now: 20_000, minAgeMs: Number.POSITIVE_INFINITY })),
      );
      assert.equal(
        again.reduce((sum, r) => sum + r.added, 0),
        0,
      );
      assert.equal((await (instances[0] as PostgresLedger).counts('s')).ready, 300);
    } finally {
      await Promise.all(instances.map((l) => l.close()));
    }
  });

  test('openLedger routes postgres:// URLs (schema in the URL); connection errors hide the password', async () => {
    const schema = freshSchemaName();
    made.add(schema);
    const u = new URL(url);
    u.searchParams.set('schema', schema);
    const ledger = await openLedger(u.href);
    try {
      assert.equal(ledger.backend, 'postgres');
      assert.equal((ledger as PostgresLedger).schema, schema);
    } finally {
      await ledger.close();
    }
    const bad = new URL(url);
    bad.password = 'wrong-secret-password';
    bad.searchParams.set('schema', schema);
    await assert.rejects(PostgresLedger.connect(bad.href, { connectTimeoutMs: 3000 }), (err: unknown) => {
      assert.ok(err instanceof LedgerError);
      assert.equal(err.backend, 'postgres');
      assert.doesNotMatch(err.message, /wrong-secret-password/);
      return true;
    });
    await assert.rejects(PostgresLedger.connect(url, { schema: 'bad"name' }), {
      code: 'RADARLIB_INVALID_ARGUMENT',
    });
  });
});
