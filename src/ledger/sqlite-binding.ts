/**
 * The SQLite binding (better-sqlite3, native code), loaded on first use rather than when
 * radarlib is imported: FTP-only users, `radarlib --help` and PostgreSQL deployments never load
 * it. `require` caches the module after the first call.
 */
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';

export function loadBetterSqlite3(): typeof Database {
  return createRequire(import.meta.url)('better-sqlite3') as typeof Database;
}
