/**
 * Opens the ledger a config names: a file path or `sqlite:` URL gives the SQLite store, a
 * `postgres://` or `postgresql://` URL the shared PostgreSQL store.
 */
import { InvalidArgumentError } from '../errors.js';
import type { Ledger } from './ledger.js';
import { PostgresLedger } from './postgres.js';
import { SqliteLedger } from './sqlite.js';

/** Options of {@link openLedger}. */
export interface OpenLedgerOptions {
  /**
   * Take a SQLite ledger's process lock (what a daemon does): a second daemon on the same file
   * then fails with `LedgerLockedError`. Ignored for PostgreSQL, which is built for several
   * instances. @default false
   */
  exclusive?: boolean;
}

/**
 * @param urlOrPath `./data/ledger.db`, `/var/lib/radarlib/ledger.db`, `sqlite:///var/lib/radarlib/ledger.db`,
 *   `sqlite:data/ledger.db`, `sqlite::memory:`, or `postgres://user:pass@host:5432/db[?schema=name]`.
 * @example
 * const ledger = await openLedger(process.env.RADARLIB_LEDGER_URL ?? './data/ledger.db');
 */
export async function openLedger(urlOrPath: string, options: OpenLedgerOptions = {}): Promise<Ledger> {
  if (typeof urlOrPath !== 'string' || urlOrPath.trim() === '') {
    throw new InvalidArgumentError('ledger', 'must be a file path or a sqlite:/postgres:// URL');
  }
  if (/^postgres(ql)?:\/\//i.test(urlOrPath)) return PostgresLedger.connect(urlOrPath);
  if (/^sqlite:/i.test(urlOrPath)) {
    // sqlite:///abs/path -> /abs/path, sqlite://rel/path and sqlite:rel/path -> rel/path.
    const rest = urlOrPath.slice('sqlite:'.length);
    const path = rest.startsWith('//') ? rest.slice(2) : rest;
    if (path === '') throw new InvalidArgumentError('ledger', `no file path in ${JSON.stringify(urlOrPath)}`);
    return SqliteLedger.open(decodeURIComponent(path), options);
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(urlOrPath);
  if (scheme !== null) {
    throw new InvalidArgumentError(
      'ledger',
      `unsupported scheme ${JSON.stringify(scheme[1])}: use a file path, sqlite: or postgres://`,
    );
  }
  return SqliteLedger.open(urlOrPath, options);
}
