/**
 * Where the PostgreSQL tests find a server, and how they get a clean place in it.
 *
 * `.ci/start-postgres.sh` starts a loopback cluster and prints DEFAULT_TEST_PG_URL (its public
 * test credential). RADARLIB_TEST_PG_URL points the tests at any other server.
 * Each test run works in fresh schemas (`rl_test_<pid>_<n>_<random>`) that it drops afterwards.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const DEFAULT_TEST_PG_URL = 'postgres://radarlib:radarlib@127.0.0.1:54329/radarlib_test';

/** The server the tests use: RADARLIB_TEST_PG_URL, else the one start-postgres.sh runs. */
export function testPgUrl(): string {
  const url = process.env.RADARLIB_TEST_PG_URL;
  return url === undefined || url === '' ? DEFAULT_TEST_PG_URL : url;
}

/** The URL without its password, for skip messages and logs. */
export function redactPgUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.href;
  } catch {
    return '(unparseable URL)';
  }
}

export type PostgresProbe = { ok: true; url: string } | { ok: false; url: string; reason: string };

/** Tries to connect and run `SELECT 1` within `timeoutMs`; never throws. */
export async function postgresAvailable(url = testPgUrl(), timeoutMs = 1500): Promise<PostgresProbe> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  const timer = AbortSignal.timeout(timeoutMs * 2);
  try {
    await Promise.race([
      (async () => {
        await client.connect();
        await client.query('SELECT 1');
      })(),
      new Promise((_, reject) => timer.addEventListener('abort', () => reject(new Error('timed out')))),
    ]);
    return { ok: true, url };
  } catch (err) {
    return { ok: false, url, reason: err instanceof Error ? err.message : String(err) };
  } finally {
    await client.end().catch(() => {});
  }
}

let schemaCounter = 0;

/** A schema name no other run or test uses. */
export function freshSchemaName(): string {
  schemaCounter += 1;
  return `rl_test_${process.pid}_${schemaCounter}_${randomBytes(3).toString('hex')}`;
}

/** Drops a schema made for a test, with everything in it. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  if (!/^rl_test_[a-z0-9_]+$/.test(schema)) throw new Error(`refusing to drop schema ${schema}`);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
