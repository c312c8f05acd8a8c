/**
 * Who may talk to the status server: the Host check (DNS rebinding), HTTP basic auth with the
 * token (compared in constant time), and a throttle on failed attempts, logged once per window
 * per client so a password guesser can neither go fast nor flood the log.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { isLoopback } from './bind.js';

export interface AuthOptions {
  /** Basic-auth password (any user name); null = no auth. */
  token: string | null;
  /** Extra Host names accepted without a token (besides IP literals and `localhost`). */
  allowedHosts?: readonly string[];
  /** Failed attempts per client and window before 429. @default 20 */
  maxFailures?: number;
  /** @default 60 000 */
  failureWindowMs?: number;
  /** At most this many clients are remembered (oldest dropped). @default 1024 */
  maxTrackedClients?: number;
  logger: Logger;
  now: () => number;
}

export type AuthVerdict = 'ok' | 'forbidden-host' | 'unauthorized' | 'throttled';

interface FailureWindow {
  start: number;
  failures: number;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** `host:port`, `[v6]:port`, `host` -> the host part, lower case. */
export function hostHeaderName(header: string): string {
  const h = header.trim().toLowerCase();
  const v6 = /^\[([^\]]*)\](?::\d*)?$/.exec(h);
  if (v6 !== null) return v6[1] ?? '';
  return h.replace(/:\d*$/, '');
}

export class Gatekeeper {
  readonly #tokenDigest: Buffer | null;
  readonly #allowedHosts: Set<string>;
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #maxClients: number;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #failures = new Map<string, FailureWindow>();

  constructor(options: AuthOptions) {
    this.#tokenDigest = options.token === null ? null : digest(options.token);
    this.#allowedHosts = new Set((options.allowedHosts ?? []).map((h) => h.toLowerCase()));
    this.#maxFailures = options.maxFailures ?? 20;
    this.#windowMs = options.failureWindowMs ?? 60_000;
    this.#maxClients = options.maxTrackedClients ?? 1024;
    this.#log = options.logger;
    this.#now = options.now;
  }

  get hasToken(): boolean {
    return this.#tokenDigest !== null;
  }

  /** Decides on a request before anything else of it is looked at. */
  check(req: IncomingMessage): AuthVerdict {
    if (!this.#hostAllowed(req)) return 'forbidden-host';
    if (this.#tokenDigest === null) return 'ok';
    const client = req.socket.remoteAddress ?? '?';
    const window = this.#window(client);
    if (window.failures >= this.#maxFailures) {
      window.failures++;
      return 'throttled';
    }
    if (this.#tokenMatches(req.headers.authorization ?? '')) return 'ok';
    window.failures++;
    if (window.failures === 1) {
      this.#log.warn({ client }, 'status page: failed authentication (logged once per minute per client)');
    }
    return 'unauthorized';
  }

  /** Seconds until `client` may try again. */
  retryAfterSeconds(client: string | undefined): number {
    const w = this.#failures.get(client ?? '?');
    if (w === undefined) return 0;
    return Math.max(1, Math.ceil((w.start + this.#windowMs - this.#now()) / 1000));
  }

  /**
   * Without a token, a browser page from any web site can reach a loopback server by rebinding
   * its own name to 127.0.0.1; refusing Host names that are neither IP literals, `localhost`
   * nor listed defeats that. With a token the browser holds no credentials for a foreign origin.
   */
  #hostAllowed(req: IncomingMessage): boolean {
    if (this.#tokenDigest !== null) return true;
    const host = hostHeaderName(req.headers.host ?? '');
    return host === '' || isIP(host) !== 0 || isLoopback(host) || this.#allowedHosts.has(host);
  }

  #tokenMatches(header: string): boolean {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (m === null) return false;
    const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const password = colon < 0 ? decoded : decoded.slice(colon + 1);
    return timingSafeEqual(digest(password), this.#tokenDigest as Buffer);
  }

  #window(client: string): FailureWindow {
    const t = this.#now();
    let w = this.#failures.get(client);
    if (w !== undefined && t - w.start >= this.#windowMs) {
      if (w.failures > 1) {
        this.#log.warn(
          { client, failures: w.failures },
          'status page: failed authentications in the last window',
        );
      }
      this.#failures.delete(client);
      w = undefined;
    }
    if (w === undefined) {
      w = { start: t, failures: 0 };
      this.#failures.set(client, w);
      // Bounded memory under a spread of source addresses: forget the oldest windows.
      while (this.#failures.size > this.#maxClients) {
        this.#failures.delete(this.#failures.keys().next().value as string);
      }
    }
    return w;
  }
}
