/**
 * Config values safe to print or log: passwords, the status token and the credentials of
 * connection URLs (the PostgreSQL ledger's) replaced by `[redacted]`. `--print-config`, the
 * daemon's start-up log and the status page's error texts (web/secrets.ts) go through here.
 */
import type { DaemonConfig } from './types.js';

/** A copy safe to print or log: passwords, the status token and URL credentials replaced by `[redacted]`. */
export function redactConfig(config: DaemonConfig): DaemonConfig {
  return {
    ...config,
    ledger: redactUrl(config.ledger),
    sources: config.sources.map((s) => ({ ...s, password: s.password === '' ? '' : '[redacted]' })),
    http:
      config.http === null || config.http.token === undefined
        ? config.http
        : { ...config.http, token: '[redacted]' },
  };
}

/** Query parameters that carry credentials in connection URLs (`?password=`, `?sslpassword=`). */
const SECRET_PARAM = /pass|secret|token|key/i;

/**
 * `postgres://user:secret@host/db?password=x` -> `postgres://user:[redacted]@host/db?password=[redacted]`.
 * Parsed with `URL`, so a password holding `@`, `:` or `/` is cut whole; a value that is not a
 * URL (a file path) is returned as is, and a URL too broken to parse loses all of its authority.
 */
export function redactUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Not a URL, or a malformed one: keep only the scheme when it has one.
    return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)\S*$/i, '$1[redacted]');
  }
  const marker = '__radarlib_redacted__';
  let changed = false;
  if (url.password !== '') {
    url.password = marker;
    changed = true;
  }
  for (const key of [...url.searchParams.keys()]) {
    if (SECRET_PARAM.test(key)) {
      url.searchParams.set(key, marker);
      changed = true;
    }
  }
  return changed ? url.toString().split(marker).join('[redacted]') : value;
}
